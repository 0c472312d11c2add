import { open } from 'node:fs/promises';
import type { Observable } from 'rxjs';
import type { AudioChunk, AudioFormat } from '../audio/audio-format.js';
import { fromByteReader } from './byte-source.js';

/** Options of {@link fromFile}. */
export interface FromFileOptions {
  /** For raw PCM files: their format. Without it the file must be a WAV file. */
  readonly format?: AudioFormat;
  /** Bytes per read. Default 64 KiB. */
  readonly chunkBytes?: number;
}

/**
 * Audio from a file (Node.js only): a WAV file (16-bit or 32-bit float PCM, any
 * rate, any number of channels), or raw PCM with an explicit `format`. The
 * file is opened at subscription, read one chunk per await, and closed at the
 * end, on error and on unsubscribe.
 *
 * @example
 * fromFile('meeting.wav').pipe(transcribe({ url: 'ws://localhost:2700' }))
 */
export function fromFile(path: string, options: FromFileOptions = {}): Observable<AudioChunk> {
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  if (!(Number.isInteger(chunkBytes) && chunkBytes > 0)) {
    throw new RangeError(`fromFile: chunkBytes must be a positive whole number, got ${chunkBytes}`);
  }
  return fromByteReader(
    async () => {
      const handle = await open(path, 'r');
      return {
        async read(maxBytes?: number) {
          // A fresh buffer per read: downstream may hold on to what it was given.
          const size = maxBytes !== undefined ? Math.min(chunkBytes, maxBytes) : chunkBytes;
          const buffer = new Uint8Array(size);
          const { bytesRead } = await handle.read(buffer, 0, size, null);
          return bytesRead === 0 ? undefined : buffer.subarray(0, bytesRead);
        },
        close: () => handle.close(),
      };
    },
    options.format ?? 'wav',
    path,
  );
}
