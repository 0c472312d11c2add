import { badAudio } from '../errors/transcription-error.js';
import {
  type AudioChunk,
  type AudioFormat,
  assertFormat,
  bytesForMs,
  HEADER_READ_BYTES,
} from './audio-format.js';
import { PcmByteDecoder } from './pcm-bytes.js';
import { describeWavFormat, parseWavHeader, type WavFormat } from './wav-header.js';

/** Largest header read before giving up on a file that is not WAV after all. */
const MAX_HEADER_BYTES = 1024 * 1024;

/** The `AudioFormat` of a WAV file's samples, or a bad-audio error naming the file and what it holds. */
export function audioFormatOfWav(format: WavFormat, name: string): AudioFormat {
  const what = `${name} holds ${describeWavFormat(format)} audio`;
  if (format.channels < 1) throw badAudio(`${what}, with no channels`);
  const encoding =
    format.formatCode === 1 && format.bitsPerSample === 16
      ? 'pcm_s16le'
      : format.formatCode === 3 && format.bitsPerSample === 32
        ? 'pcm_f32le'
        : undefined;
  if (encoding !== undefined) {
    const audio: AudioFormat = { sampleRate: format.sampleRate, channels: format.channels, encoding };
    // The one range every path takes (WAV, raw, chunks).
    assertFormat(audio, `${name} (its WAV header)`);
    return audio;
  }
  if (format.formatCode === 1 || format.formatCode === 3) {
    throw badAudio(
      `${what}; supported are 16-bit integer and 32-bit float PCM (convert with: sox IN -b 16 OUT.wav)`,
    );
  }
  throw badAudio(`${what}, a compressed format; supported are 16-bit integer and 32-bit float PCM`);
}

/**
 * Reads a WAV byte stream split anywhere: the header first (however it is
 * split), then whole sample frames. Stops at the end of the data chunk when
 * its size is known, so trailing chunks (LIST, id3) are not read as audio.
 */
export class WavStreamReader {
  private header: Uint8Array = new Uint8Array(0);
  private decoder: PcmByteDecoder | undefined;
  private remaining = Number.POSITIVE_INFINITY;
  private formatValue: AudioFormat | undefined;

  /** `immutableInput`: as for {@link PcmByteDecoder}, bytes pushed are never written again. */
  constructor(
    private readonly name: string,
    private readonly options: { readonly immutableInput?: boolean } = {},
  ) {}

  /** The format, once the header has been read. */
  get format(): AudioFormat | undefined {
    return this.formatValue;
  }

  /** Bytes holding `ms` of audio once the format is known; enough for a header before. */
  bytesFor(ms: number): number {
    return this.formatValue === undefined ? HEADER_READ_BYTES : bytesForMs(this.formatValue, ms);
  }

  /** Bytes of an incomplete sample frame held back. */
  get pendingBytes(): number {
    return this.decoder?.pendingBytes ?? 0;
  }

  /** Bytes of one sample frame (1 before the header has been read). */
  get frameBytes(): number {
    return this.decoder?.frameBytes ?? 1;
  }

  push(bytes: Uint8Array): AudioChunk | undefined {
    if (this.decoder === undefined) {
      const joined = new Uint8Array(this.header.length + bytes.length);
      joined.set(this.header, 0);
      joined.set(bytes, this.header.length);
      const parsed = parseWavHeader(joined);
      if (parsed.status === 'invalid') throw badAudio(`${this.name} is not a WAV file (${parsed.reason})`);
      if (parsed.status === 'need-more') {
        if (joined.length > MAX_HEADER_BYTES)
          throw badAudio(`${this.name}: no data chunk in the first 1 MiB`);
        this.header = joined;
        return undefined;
      }
      this.formatValue = audioFormatOfWav(parsed.format, this.name);
      this.decoder = new PcmByteDecoder(this.formatValue, this.options);
      // 0 and 0xFFFFFFFF are what streaming writers put when they do not know the size.
      if (parsed.dataLength > 0 && parsed.dataLength < 0xffffffff) this.remaining = parsed.dataLength;
      this.header = new Uint8Array(0);
      return this.take(joined.subarray(parsed.dataOffset));
    }
    return this.take(bytes);
  }

  private take(bytes: Uint8Array): AudioChunk | undefined {
    const within = bytes.length > this.remaining ? bytes.subarray(0, this.remaining) : bytes;
    this.remaining -= within.length;
    const samples = this.decoder!.push(within);
    return samples === undefined ? undefined : { format: this.formatValue!, samples };
  }

  /** Call at the end of the bytes: throws if the header never completed. */
  finish(): undefined {
    if (this.decoder === undefined) {
      throw badAudio(
        this.header.length === 0 ? `${this.name} is empty` : `${this.name} ends inside its WAV header`,
      );
    }
    return undefined;
  }
}
