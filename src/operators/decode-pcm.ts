import { Observable, type OperatorFunction } from 'rxjs';
import { type AudioChunk, type AudioFormat, assertFormat } from '../audio/audio-format.js';
import { PcmByteDecoder } from '../audio/pcm-bytes.js';
import { findUpstreamLink, keepUpstreamLink, noticeTrailingBytes } from '../flow/upstream-link.js';
import { asBytes } from '../sources/byte-source.js';

/**
 * Turns raw little-endian PCM bytes of a known format into audio chunks. The
 * bytes may be split anywhere: a sample split across two chunks is joined.
 * Bytes left at the end that are not a whole sample frame are reported to
 * `transcribe` or `controlled` downstream (counted as `trailingBytes`).
 * For a Subject or socket of bytes; the sources do this themselves.
 */
export function decodePcm(format: AudioFormat): OperatorFunction<Uint8Array, AudioChunk> {
  assertFormat(format, 'decodePcm');
  return (source) =>
    new Observable<AudioChunk>((subscriber) => {
      const decoder = new PcmByteDecoder(format);
      const link = findUpstreamLink(subscriber);
      return keepUpstreamLink(source, subscriber).subscribe({
        next(bytes) {
          let samples: AudioChunk['samples'] | undefined;
          try {
            samples = decoder.push(asBytes(bytes, 'decodePcm'));
          } catch (error) {
            subscriber.error(error);
            return;
          }
          if (samples !== undefined) subscriber.next({ format, samples });
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          noticeTrailingBytes(link, 'decodePcm', decoder);
          subscriber.complete();
        },
      });
    });
}
