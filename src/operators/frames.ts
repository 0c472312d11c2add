import { Observable, type OperatorFunction } from 'rxjs';
import type { AudioChunk, AudioFrame } from '../audio/audio-format.js';
import { Framer, samplesPerFrame } from '../audio/framer.js';
import { keepUpstreamLink } from '../flow/upstream-link.js';

export { samplesPerFrame };

/** Options of {@link frames}. */
export interface FramesOptions {
  /** Duration of each frame in milliseconds (the last may be shorter). Default 100. */
  readonly durationMs?: number;
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
      const framer = new Framer(durationMs);
      let offset = 0;
      // Each frame with its offset on the stream's timeline.
      const sink = {
        next(chunk: AudioChunk): void {
          const frame: AudioFrame = { format: chunk.format, samples: chunk.samples, offset };
          offset += chunk.samples.length / chunk.format.channels;
          subscriber.next(frame);
        },
        get closed(): boolean {
          return subscriber.closed;
        },
      };
      return keepUpstreamLink(source, subscriber).subscribe({
        next(chunk) {
          try {
            framer.push(chunk, sink);
          } catch (error) {
            subscriber.error(error);
          }
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          framer.flush(sink);
          subscriber.complete();
        },
      });
    });
}
