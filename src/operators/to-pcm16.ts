import { Observable, type OperatorFunction } from 'rxjs';
import type { AudioChunk } from '../audio/audio-format.js';
import { Pcm16Normaliser } from '../audio/pcm16-normaliser.js';
import { keepUpstreamLink } from '../flow/upstream-link.js';

/** Options of {@link toPcm16}. */
export interface ToPcm16Options {
  /** Sample rate to resample to; by default the input's rate is kept. */
  readonly sampleRate?: number;
}

/**
 * Normalises audio to what speech servers take: 16-bit mono PCM, at
 * `sampleRate` if given. Channels are averaged, floats are scaled and clipped,
 * and the rate is changed by a band-limited (anti-aliased) resampler whose
 * tail is flushed at completion. Audio already in that format passes as is.
 */
export function toPcm16(options: ToPcm16Options = {}): OperatorFunction<AudioChunk, AudioChunk> {
  return (source) =>
    new Observable<AudioChunk>((subscriber) => {
      const normaliser = new Pcm16Normaliser(options.sampleRate);
      return keepUpstreamLink(source, subscriber).subscribe({
        next(chunk) {
          let out: AudioChunk | undefined;
          try {
            out = normaliser.push(chunk);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          if (out !== undefined) subscriber.next(out);
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          const tail = normaliser.flush();
          if (tail !== undefined) subscriber.next(tail);
          subscriber.complete();
        },
      });
    });
}
