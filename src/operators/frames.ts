import { Observable, type OperatorFunction } from 'rxjs';
import {
  type AudioChunk,
  type AudioFormat,
  type AudioFrame,
  describeFormat,
  sameFormat,
} from '../audio/audio-format.js';
import { SampleRing } from '../audio/sample-ring.js';
import { badAudio } from '../errors/transcription-error.js';

/** Options of {@link frames}. */
export interface FramesOptions {
  /** Duration of each frame in milliseconds (the last may be shorter). Default 100. */
  readonly durationMs?: number;
}

/** Sample frames in one frame of `durationMs` at `format`'s rate (at least one). */
export function samplesPerFrame(format: AudioFormat, durationMs: number): number {
  return Math.max(1, Math.round((durationMs * format.sampleRate) / 1000));
}

/**
 * Re-chunks audio into frames of a fixed duration, whatever the sizes of the
 * chunks that come in. Every sample comes out once, in order; the last, short
 * frame is flushed when the source completes. Frames carry their offset (in
 * sample frames from the start of the stream), for timelines.
 *
 * @example
 * audio$.pipe(frames({ durationMs: 100 })) // 1,600 samples per frame at 16 kHz
 */
export function frames(options: FramesOptions = {}): OperatorFunction<AudioChunk, AudioFrame> {
  const durationMs = options.durationMs ?? 100;
  if (!(durationMs > 0) || !Number.isFinite(durationMs)) {
    throw new RangeError(`frames: durationMs must be a positive number, got ${durationMs}`);
  }
  return (source) =>
    new Observable<AudioFrame>((subscriber) => {
      let format: AudioFormat | undefined;
      let ring: SampleRing<Int16Array | Float32Array> | undefined;
      let frameLength = 0; // samples (all channels) per frame
      let offset = 0;

      const emit = (count: number): void => {
        const samples = ring!.read(count);
        const frame: AudioFrame = { format: format!, samples, offset };
        offset += samples.length / format!.channels;
        subscriber.next(frame);
      };

      const subscription = source.subscribe({
        next(chunk) {
          if (format === undefined) {
            format = chunk.format;
            frameLength = samplesPerFrame(format, durationMs) * format.channels;
          } else if (!sameFormat(format, chunk.format)) {
            subscriber.error(
              badAudio(
                `frames: the audio changed format mid-stream, from ${describeFormat(format)} to ${describeFormat(chunk.format)}`,
              ),
            );
            return;
          }
          if ((ring === undefined || ring.length === 0) && chunk.samples.length === frameLength) {
            // A chunk that is already one frame passes as it is: no copy and no allocation,
            // which at thousands of live streams was most of the garbage.
            const frame: AudioFrame = { format, samples: chunk.samples, offset };
            offset += frameLength / format.channels;
            subscriber.next(frame);
            return;
          }
          // Made at the first chunk that is not one frame: a source that frames already needs none.
          ring ??= new SampleRing<Int16Array | Float32Array>(
            format.encoding === 'pcm_s16le' ? (n) => new Int16Array(n) : (n) => new Float32Array(n),
            frameLength * 2,
          );
          ring.write(chunk.samples);
          while (ring.length >= frameLength && !subscriber.closed) emit(frameLength);
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          if (ring !== undefined && ring.length > 0) emit(ring.length);
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        ring = undefined;
      };
    });
}
