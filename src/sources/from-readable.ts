import type { Observable } from 'rxjs';
import type { AudioChunk } from '../audio/audio-format.js';
import { asBytes, fromByteReader, type SourceFormat } from './byte-source.js';

/** The part of a Node.js Readable this source uses (so it needs no import of node:stream). */
export interface NodeReadableLike extends AsyncIterable<unknown> {
  destroy(error?: Error): unknown;
  readonly destroyed?: boolean;
}

/**
 * Audio from a Node.js Readable stream of bytes (a file, a socket, stdin, a
 * child process): raw PCM of `format`, or a WAV stream with `'wav'`. Reading
 * starts at subscription; at the end, on error and on unsubscribe the stream
 * is destroyed, which closes its file or socket.
 */
export function fromReadable(stream: NodeReadableLike, format: SourceFormat): Observable<AudioChunk> {
  const name = 'the readable stream';
  return fromByteReader(
    () => {
      const iterator = stream[Symbol.asyncIterator]();
      return {
        async read() {
          const result = await iterator.next();
          return result.done ? undefined : asBytes(result.value, name);
        },
        close() {
          if (!stream.destroyed) stream.destroy();
        },
      };
    },
    format,
    name,
  );
}
