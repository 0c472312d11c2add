import type { Observable } from 'rxjs';
import type { AudioChunk } from '../audio/audio-format.js';
import { asBytes, fromByteReader, type SourceFormat } from './byte-source.js';

/**
 * Audio from a WHATWG ReadableStream of bytes (`fetch().body`, `File.stream()`,
 * Node's web streams): raw PCM of `format`, or a WAV stream with `'wav'`.
 * The reader is taken at subscription; unsubscribing cancels the stream.
 */
export function fromReadableStream(
  stream: ReadableStream<Uint8Array | ArrayBuffer>,
  format: SourceFormat,
): Observable<AudioChunk> {
  const name = 'the ReadableStream';
  return fromByteReader(
    () => {
      const reader = stream.getReader();
      let done = false;
      return {
        async read() {
          const result = await reader.read();
          if (result.done) {
            done = true;
            return undefined;
          }
          return asBytes(result.value, name);
        },
        async close() {
          if (!done) await reader.cancel().catch(() => {});
          reader.releaseLock();
        },
      };
    },
    format,
    name,
  );
}
