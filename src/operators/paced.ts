import {
  asyncScheduler,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { type AudioChunk, frameCount, framesToMs } from '../audio/audio-format.js';
import { findUpstreamLink, keepUpstreamLink } from '../flow/upstream-link.js';

/** Options of {@link paced}. */
export interface PacedOptions {
  /** Times real time: 1 = live speed (default), 2 = twice as fast. */
  readonly factor?: number;
  /** For tests: the scheduler whose clock paces. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Paces audio as if it were live: a chunk is passed on no earlier than the
 * time its audio ends, counted from the first chunk (divided by `factor`).
 * For replaying files as a microphone would deliver them. Chunks wait in a
 * queue; one timer runs at a time, and the loop that drains the queue never
 * recurses.
 */
export function paced(options: PacedOptions = {}): OperatorFunction<AudioChunk, AudioChunk> {
  const factor = options.factor ?? 1;
  if (!(factor > 0) || !Number.isFinite(factor)) {
    throw new RangeError(`paced: factor must be a positive number, got ${factor}`);
  }
  const scheduler = options.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<AudioChunk>((subscriber) => {
      const queue: Array<{ chunk: AudioChunk; dueMs: number; ms: number }> = [];
      // Demand downstream, where there is some: what waits here is held, not lost (Demand.hold).
      const demand = findUpstreamLink(subscriber)?.demand;
      let startedAt: number | undefined;
      let audioMs = 0;
      let sourceDone = false;
      let timer: Subscription | undefined;

      const drain = (): void => {
        timer = undefined;
        while (queue.length > 0) {
          const wait = queue[0]!.dueMs - scheduler.now();
          if (wait > 0) {
            timer = scheduler.schedule(drain, wait);
            return;
          }
          const { chunk, ms } = queue.shift()!;
          demand?.hold(-ms);
          subscriber.next(chunk);
        }
        if (sourceDone) subscriber.complete();
      };

      const subscription = keepUpstreamLink(source, subscriber).subscribe({
        next(chunk) {
          startedAt ??= scheduler.now();
          const ms = framesToMs(frameCount(chunk), chunk.format.sampleRate);
          audioMs += ms;
          demand?.hold(ms);
          queue.push({ chunk, dueMs: startedAt + audioMs / factor, ms });
          if (timer === undefined) drain();
        },
        error: (error) => subscriber.error(error),
        complete() {
          sourceDone = true;
          if (timer === undefined) drain();
        },
      });
      return () => {
        subscription.unsubscribe();
        timer?.unsubscribe();
        for (const { ms } of queue) demand?.hold(-ms);
        queue.length = 0;
      };
    });
}
