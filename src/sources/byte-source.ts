import { Observable } from 'rxjs';
import {
  type AudioChunk,
  type AudioFormat,
  assertFormat,
  bytesForMs,
  frameCount,
  framesToMs,
  HEADER_READ_BYTES,
} from '../audio/audio-format.js';
import { PcmByteDecoder } from '../audio/pcm-bytes.js';
import { looksLikeRiff } from '../audio/wav-header.js';
import { WavStreamReader } from '../audio/wav-stream.js';
import { badAudio, isTranscriptionError } from '../errors/transcription-error.js';
import { claimUpstreamDemand, noticeTrailingBytes } from '../flow/upstream-link.js';

/**
 * The format of a source's bytes: raw PCM of a known format, a WAV file
 * (header first), or either, told apart by the first bytes (see {@link wavOrRaw}).
 */
export type SourceFormat = AudioFormat | 'wav' | { readonly wavOr: AudioFormat };

/** WAV if the bytes start with a RIFF header, otherwise raw PCM of `format` (as for stdin). */
export function wavOrRaw(format: AudioFormat): SourceFormat {
  return { wavOr: format };
}

/** How a decoder may treat the bytes pushed into it. */
export interface DecoderOptions {
  /** The bytes are never written again (a fresh buffer per read): samples may be views of them. */
  readonly immutableInput?: boolean;
}

/** Decides between WAV and raw PCM once it has seen four bytes. */
function sniffingDecoder(raw: AudioFormat, name: string, options: DecoderOptions): ChunkDecoder {
  let head = new Uint8Array(0);
  let chosen: ChunkDecoder | undefined;
  return {
    get pendingBytes() {
      return chosen?.pendingBytes ?? 0;
    },
    get frameBytes() {
      return chosen?.frameBytes ?? 1;
    },
    bytesFor: (ms) => (chosen !== undefined ? chosen.bytesFor(ms) : HEADER_READ_BYTES),
    push(bytes) {
      if (chosen !== undefined) return chosen.push(bytes);
      const joined = new Uint8Array(head.length + bytes.length);
      joined.set(head, 0);
      joined.set(bytes, head.length);
      if (joined.length < 4) {
        head = joined;
        return undefined;
      }
      chosen = chunkDecoder(looksLikeRiff(joined) ? 'wav' : raw, name, options);
      head = new Uint8Array(0);
      return chosen.push(joined);
    },
    finish() {
      if (chosen !== undefined) return chosen.finish();
      // Under four bytes in all: too short to be WAV.
      chosen = chunkDecoder(raw, name, options);
      const last = chosen.push(head);
      chosen.finish();
      return last;
    },
  };
}

/** Something that hands out bytes when asked: the pull side of every source. */
export interface ByteReader {
  /**
   * Resolves to the next bytes, or undefined at the end. `maxBytes`, under flow
   * control, is how much is wanted: readers that choose their read size (files)
   * take no more; streams give what they have.
   */
  read(maxBytes?: number): Promise<Uint8Array | undefined>;
  /**
   * True when the bytes read are never written again (each read fills a fresh
   * buffer), so the audio may be views of them instead of copies.
   */
  readonly immutableBytes?: boolean;
  /** Releases the file or stream; called once, at the end or on unsubscribe. */
  close(): Promise<void> | void;
}

/** Turns bytes split anywhere into audio chunks. */
export interface ChunkDecoder {
  push(bytes: Uint8Array): AudioChunk | undefined;
  /** Bytes that hold `ms` of audio (whole sample frames, at least one; a header's worth before the format is known). */
  bytesFor(ms: number): number;
  /** At the end of the bytes: returns what is left to emit; throws if they ended where they must not. */
  finish(): AudioChunk | undefined;
  /** Bytes held back: the start of a sample frame whose end has not arrived (at the end: not audio). */
  readonly pendingBytes: number;
  /** Bytes of one sample frame (1 before the format is known). */
  readonly frameBytes: number;
}

/** A decoder for raw PCM of `format`, or for a WAV stream named `name` in messages. */
export function chunkDecoder(format: SourceFormat, name: string, options: DecoderOptions = {}): ChunkDecoder {
  if (format === 'wav') return new WavStreamReader(name, options);
  if ('wavOr' in format) {
    assertFormat(format.wavOr, name);
    return sniffingDecoder(format.wavOr, name, options);
  }
  assertFormat(format, name);
  const decoder = new PcmByteDecoder(format, options);
  return {
    get pendingBytes() {
      return decoder.pendingBytes;
    },
    frameBytes: decoder.frameBytes,
    bytesFor: (ms) => bytesForMs(format, ms),
    push(bytes) {
      const samples = decoder.push(bytes);
      return samples === undefined ? undefined : { format, samples };
    },
    finish: () => undefined,
  };
}

/** Bytes as a Uint8Array, from the shapes streams hand out. */
export function asBytes(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') {
    throw badAudio(`${name} gave a string; audio sources must give bytes (open streams without an encoding)`);
  }
  throw badAudio(`${name} gave ${value === null ? 'null' : typeof value}; audio sources must give bytes`);
}

/**
 * The Observable over a byte reader: nothing is opened before subscription;
 * bytes are read one await at a time (a loop, never recursion); the reader is
 * closed at the end, on error and on unsubscribe.
 */
export function fromByteReader(
  open: () => Promise<ByteReader> | ByteReader,
  format: SourceFormat,
  name: string,
): Observable<AudioChunk> {
  return new Observable<AudioChunk>((subscriber) => {
    let reader: ByteReader | undefined;
    let closed = false;
    let closing: Promise<void> | undefined;
    const release = (): Promise<void> => {
      if (reader === undefined) return Promise.resolve(); // not open yet: run() closes it once it is
      closing ??= Promise.resolve(reader.close()).then(
        () => {},
        () => {},
      );
      return closing;
    };

    // Subscribed under flow control (controlled(), transcribe()), however deep, the
    // source reads only what is asked for; otherwise as fast as its consumer takes it.
    const claim = claimUpstreamDemand(subscriber);
    const demand = claim?.demand;
    const deliver = (chunk: AudioChunk): void => subscriber.next(chunk);
    const emit = (chunk: AudioChunk): void => {
      if (demand === undefined) subscriber.next(chunk);
      else demand.handOut(framesToMs(frameCount(chunk), chunk.format.sampleRate), deliver, chunk);
    };

    const run = async (): Promise<void> => {
      reader = await open();
      if (closed) {
        // Unsubscribed while opening: close what was just opened.
        await release();
        return;
      }
      const decoder = chunkDecoder(format, name, { immutableInput: reader.immutableBytes === true });
      for (;;) {
        let limit: number | undefined;
        if (demand !== undefined) {
          // Another source answering the same demand (a merge) may have taken what woke this one.
          while (demand.outstanding <= 0) {
            await demand.whenDemanded();
            if (closed) return;
          }
          limit = decoder.bytesFor(demand.outstanding);
        }
        const bytes = await reader.read(limit);
        if (closed) return;
        if (bytes === undefined) break;
        const chunk = decoder.push(bytes);
        if (chunk !== undefined) emit(chunk);
        if (closed) return;
      }
      const last = decoder.finish();
      if (last !== undefined) emit(last);
      noticeTrailingBytes(claim, name, decoder);
      claim?.release();
      await release();
      subscriber.complete();
    };

    run().catch(async (error: unknown) => {
      claim?.release();
      await release();
      if (closed) return;
      subscriber.error(
        isTranscriptionError(error)
          ? error
          : badAudio(`could not read ${name}: ${(error as Error).message}`, error),
      );
    });

    return () => {
      closed = true;
      claim?.release();
      demand?.release();
      void release();
    };
  });
}
