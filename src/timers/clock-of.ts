import { asyncScheduler, type SchedulerLike } from 'rxjs';

/**
 * The clock a session reads: `Date.now` itself for the default scheduler on
 * the wall clock, else the scheduler's own `now` (a test's virtual clock, a
 * user's scheduler). Through RxJS's scheduler and timestamp provider a read
 * cost a browser's main thread about 4 µs more per call, twice per frame
 * (docs/performance.md, "Main thread in the browser").
 */
export function clockOf(scheduler: SchedulerLike): () => number {
  return onWallClock(scheduler) ? Date.now : () => scheduler.now();
}

/**
 * The default scheduler, outside a TestScheduler's `run` (inside it the
 * default schedulers keep virtual time from 0, far from the wall clock's).
 */
export function onWallClock(scheduler: SchedulerLike): boolean {
  return scheduler === asyncScheduler && Math.abs(asyncScheduler.now() - Date.now()) <= 60_000;
}
