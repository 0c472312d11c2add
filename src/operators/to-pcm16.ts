import { Observable, type OperatorFunction } from 'rxjs';
import { type AudioChunk, type AudioFormat, describeFormat, sameFormat } from '../audio/audio-format.js';
import { downmixInt16, downmixToFloat, floatToInt16 } from '../audio/pcm-convert.js';
import { Resampler } from '../audio/resampler.js';
import { badAudio } from '../errors/transcription-error.js';

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
      let input: AudioFormat | undefined;
      let output: AudioFormat | undefined;
      let resampler: Resampler | undefined;

      const subscription = source.subscribe({
        next(chunk) {
          if (input === undefined) {
            input = chunk.format;
            const sampleRate = options.sampleRate ?? input.sampleRate;
            output = { sampleRate, channels: 1, encoding: 'pcm_s16le' };
            if (sampleRate !== input.sampleRate) resampler = new Resampler(input.sampleRate, sampleRate);
          } else if (!sameFormat(input, chunk.format)) {
            subscriber.error(
              badAudio(
                `toPcm16: the audio changed format mid-stream, from ${describeFormat(input)} to ${describeFormat(chunk.format)}`,
              ),
            );
            return;
          }
          if (sameFormat(input, output!)) {
            subscriber.next(chunk);
            return;
          }
          let samples: Int16Array;
          if (resampler !== undefined) {
            samples = floatToInt16(resampler.process(downmixToFloat(chunk.samples, input.channels)));
          } else if (chunk.samples instanceof Int16Array) {
            samples = downmixInt16(chunk.samples, input.channels);
          } else {
            samples = floatToInt16(downmixToFloat(chunk.samples, input.channels));
          }
          if (samples.length > 0) subscriber.next({ format: output!, samples });
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          if (resampler !== undefined) {
            const tail = floatToInt16(resampler.flush());
            if (tail.length > 0) subscriber.next({ format: output!, samples: tail });
          }
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        resampler = undefined;
      };
    });
}
