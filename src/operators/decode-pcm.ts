import { Observable, type OperatorFunction } from 'rxjs';
import { type AudioChunk, type AudioFormat, assertFormat } from '../audio/audio-format.js';
import { PcmByteDecoder } from '../audio/pcm-bytes.js';

/**
 * Turns raw little-endian PCM bytes of a known format into audio chunks. The
 * bytes may be split anywhere: a sample split across two chunks is joined.
 * For a Subject or socket of bytes; the sources do this themselves.
 */
export function decodePcm(format: AudioFormat): OperatorFunction<Uint8Array, AudioChunk> {
  assertFormat(format, 'decodePcm');
  return (source) =>
    new Observable<AudioChunk>((subscriber) => {
      const decoder = new PcmByteDecoder(format);
      return source.subscribe({
        next(bytes) {
          const samples = decoder.push(bytes);
          if (samples !== undefined) subscriber.next({ format, samples });
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
