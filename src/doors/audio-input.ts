import type { Observable } from 'rxjs';
import type { AudioChunk } from '../audio/audio-format.js';
import { badAudio } from '../errors/transcription-error.js';
import { fromByteReader, type SourceFormat } from '../sources/byte-source.js';
import { type ByteLike, fromAsyncIterable } from '../sources/from-async-iterable.js';
import { fromFile } from '../sources/from-file.js';
import { fromReadableStream } from '../sources/from-readable-stream.js';

/** The part of a `Blob` (or `File`) the doors use. */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * Audio the doors take, as bytes (a WAV file, or raw PCM with a `format`): a
 * `Blob` or `File`, a WHATWG `ReadableStream` (`fetch().body`,
 * `Readable.toWeb(...)`), any async or sync iterable of bytes (a Node
 * Readable, a generator), or the bytes themselves.
 */
export type AudioInput =
  | BlobLike
  | ReadableStream<Uint8Array | ArrayBuffer>
  | AsyncIterable<ByteLike>
  | Iterable<ByteLike>
  | ByteLike;

/** Options shared by the doors about their input. */
export interface AudioInputOptions {
  /** The bytes' format: `'wav'` (the default), raw PCM of an `AudioFormat`, or `wavOrRaw(format)`. */
  readonly format?: SourceFormat;
}

function isByteLike(value: unknown): value is ByteLike {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function isBlobLike(value: object): value is BlobLike {
  return (
    typeof (value as Partial<BlobLike>).slice === 'function' && typeof (value as BlobLike).size === 'number'
  );
}

/**
 * The input as the source of a session: nothing is opened before
 * subscription, and every kind reads only what the session asks for. A path
 * is Node's (the browser build's `fromFile` says so, and keeps `node:fs` out).
 */
export function audioInput(input: AudioInput | string, format: SourceFormat = 'wav'): Observable<AudioChunk> {
  if (typeof input === 'string') {
    if (typeof format === 'object' && 'wavOr' in format) {
      throw new TypeError("transcribeFile: a path takes format 'wav' or an AudioFormat (raw PCM)");
    }
    return fromFile(input, format === 'wav' ? {} : { format });
  }
  if (isByteLike(input)) {
    const bytes =
      input instanceof ArrayBuffer
        ? new Uint8Array(input)
        : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    return fromAsyncIterable([bytes], format);
  }
  if (typeof input !== 'object' || input === null) {
    throw badAudio(`${WANTED}, got ${input === null ? 'null' : typeof input}`);
  }
  if (isBlobLike(input)) return fromBlob(input, format);
  if (typeof ReadableStream !== 'undefined' && input instanceof ReadableStream) {
    return fromReadableStream(input, format);
  }
  if (Symbol.asyncIterator in input || Symbol.iterator in input) return fromAsyncIterable(input, format);
  throw badAudio(`${WANTED}, got an object that is none of them`);
}

const WANTED = 'audio input must be bytes, a Blob, a ReadableStream or an iterable of bytes';

/** Bytes per read of a Blob, at most (as fromFile's). */
const BLOB_READ_BYTES = 64 * 1024;

/**
 * A Blob read as a file is: a slice per read, sized to what the session asks
 * for, so that a large `File` is held a window at a time, not whole.
 */
function fromBlob(blob: BlobLike, format: SourceFormat): Observable<AudioChunk> {
  return fromByteReader(
    () => {
      let offset = 0;
      return {
        immutableBytes: true,
        async read(maxBytes?: number) {
          if (offset >= blob.size) return undefined;
          const end = Math.min(blob.size, offset + Math.min(maxBytes ?? BLOB_READ_BYTES, BLOB_READ_BYTES));
          const bytes = new Uint8Array(await blob.slice(offset, end).arrayBuffer());
          offset = end;
          return bytes;
        },
        close() {},
      };
    },
    format,
    'the Blob',
  );
}
