import type { Observable } from 'rxjs';
import type { AudioChunk } from '../audio/audio-format.js';
import { asBytes, fromByteReader, type SourceFormat } from './byte-source.js';

/** Byte shapes an iterable may yield. */
export type ByteLike = Uint8Array | ArrayBuffer | ArrayBufferView;

/**
 * Audio from an async (or sync) iterable of bytes: raw PCM of `format`, or a
 * WAV stream with `'wav'`. Iteration starts at subscription, one item per
 * await; unsubscribing calls the iterator's `return()`, which closes a
 * generator's resources.
 */
export function fromAsyncIterable(
  iterable: AsyncIterable<ByteLike> | Iterable<ByteLike>,
  format: SourceFormat,
): Observable<AudioChunk> {
  const name = 'the async iterable';
  return fromByteReader(
    () => {
      const iterator =
        Symbol.asyncIterator in iterable
          ? (iterable as AsyncIterable<ByteLike>)[Symbol.asyncIterator]()
          : (iterable as Iterable<ByteLike>)[Symbol.iterator]();
      let done = false;
      return {
        async read() {
          const result = await iterator.next();
          if (result.done) {
            done = true;
            return undefined;
          }
          return asBytes(result.value, name);
        },
        async close() {
          if (!done) await iterator.return?.();
        },
      };
    },
    format,
    name,
  );
}
