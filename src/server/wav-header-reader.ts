import { looksLikeRiff, parseWavHeader, type WavFormat } from '../audio/wav-header.js';

/** Largest WAV header read through before giving up. */
export const MAX_HEADER_BYTES = 64 * 1024;

/** What the first bytes of a session's audio turned out to be. */
export type HeaderRead =
  | { readonly status: 'need-more' }
  /** Not a RIFF file: `bytes` are all the audio held so far. */
  | { readonly status: 'not-wav'; readonly bytes: Buffer }
  | { readonly status: 'invalid'; readonly reason: string }
  /** A header: `rest` is the audio after it (possibly empty). */
  | { readonly status: 'wav'; readonly format: WavFormat; readonly rest: Buffer };

/**
 * Reads a WAV header at the very start of a session's audio, across frames if
 * need be: clients written for Vosk pipe WAV files as they are, and Deepgram
 * takes containerized audio when no `encoding` is given.
 */
export class WavHeaderReader {
  private held: Buffer = Buffer.alloc(0);

  /** Some of the audio is held, waiting for the rest of the header. */
  get started(): boolean {
    return this.held.length > 0;
  }

  push(frame: Buffer): HeaderRead {
    const bytes = this.held.length > 0 ? Buffer.concat([this.held, frame]) : frame;
    if (!looksLikeRiff(bytes)) {
      this.held = Buffer.alloc(0);
      return { status: 'not-wav', bytes };
    }
    const parsed = bytes.length < 4 ? ({ status: 'need-more' } as const) : parseWavHeader(bytes);
    if (parsed.status === 'need-more') {
      if (bytes.length > MAX_HEADER_BYTES) {
        return { status: 'invalid', reason: `WAV header longer than ${MAX_HEADER_BYTES} bytes` };
      }
      this.held = bytes;
      return { status: 'need-more' };
    }
    this.held = Buffer.alloc(0);
    if (parsed.status === 'invalid') return { status: 'invalid', reason: parsed.reason };
    return { status: 'wav', format: parsed.format, rest: bytes.subarray(parsed.dataOffset) };
  }
}
