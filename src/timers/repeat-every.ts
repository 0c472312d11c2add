import type { SchedulerAction, SchedulerLike } from 'rxjs';

/**
 * Runs `task` every `periodMs`: on `scheduler` when there is one (a test's
 * virtual clock), else on an unref'd interval, so that the timer alone never
 * keeps a process alive. Returns the function that stops it; a task that stops
 * it is not run again.
 */
export function repeatEvery(
  scheduler: SchedulerLike | undefined,
  periodMs: number,
  task: () => void,
): () => void {
  if (scheduler !== undefined) {
    return repeatAfter(scheduler, periodMs, () => {
      task();
      return periodMs;
    });
  }
  const timer = setInterval(task, periodMs);
  (timer as { unref?: () => void }).unref?.();
  return () => clearInterval(timer);
}

/**
 * Runs `task` after `firstMs`, then again after each delay it returns, until
 * it returns undefined or the function returned here is called. On
 * `scheduler` (its virtual clock in a test).
 */
export function repeatAfter(
  scheduler: SchedulerLike,
  firstMs: number,
  task: () => number | undefined,
): () => void {
  let stopped = false;
  const action = scheduler.schedule(function again(this: SchedulerAction<unknown>) {
    const next = task();
    if (!stopped && next !== undefined) this.schedule(undefined, next);
  }, firstMs);
  return () => {
    stopped = true;
    action.unsubscribe();
  };
}
