import {
  asyncScheduler,
  defer,
  type MonoTypeOperatorFunction,
  retry,
  type SchedulerLike,
  throwError,
  timer,
} from 'rxjs';
import { isTranscriptionError } from '../errors/transcription-error.js';

/** How delays are spread: the AWS study of backoff recommends 'full'. */
export type Jitter = 'full' | 'equal' | 'decorrelated' | 'none';

/** What {@link retryBackoff} tells before each wait. */
export interface RetryInfo {
  readonly error: unknown;
  /** 1 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
}

/** Options of {@link retryBackoff}. */
export interface RetryBackoffOptions {
  /** Retries before giving up (finite by default). Default 8. `Infinity` retries for ever. */
  readonly maxRetries?: number;
  /** First delay (before jitter). Default 500 ms. */
  readonly initialDelayMs?: number;
  /** No delay is longer. Default 30,000 ms. */
  readonly maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  readonly multiplier?: number;
  /** Default 'full'. */
  readonly jitter?: Jitter;
  /** Whether to retry; by default a TranscriptionError's `retryable`, and nothing else. */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Count attempts from zero again once the source emits. Default true. */
  readonly resetOnSuccess?: boolean;
  /** Called before each wait (for status reports). */
  readonly onRetry?: (info: RetryInfo) => void;
  /** For tests: a source of randomness in [0, 1), and a scheduler. */
  readonly random?: () => number;
  readonly scheduler?: SchedulerLike;
}

/** Resolved options of a backoff schedule. */
export interface BackoffSchedule {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  readonly jitter: Jitter;
}

/**
 * The delay before retry number `attempt` (1-based). `previousMs` is the last
 * delay (for 'decorrelated': uniform between the initial delay and three
 * times the last, capped).
 */
export function backoffDelay(
  schedule: BackoffSchedule,
  attempt: number,
  previousMs: number,
  random: () => number,
): number {
  const { initialDelayMs, maxDelayMs, multiplier, jitter } = schedule;
  const exponential = Math.min(maxDelayMs, initialDelayMs * multiplier ** (attempt - 1));
  switch (jitter) {
    case 'none':
      return exponential;
    case 'full':
      return random() * exponential;
    case 'equal':
      return exponential / 2 + (random() * exponential) / 2;
    case 'decorrelated': {
      const upper = Math.max(initialDelayMs, previousMs * 3);
      return Math.min(maxDelayMs, initialDelayMs + random() * (upper - initialDelayMs));
    }
  }
}

function finitePositive(name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`retryBackoff: ${name} must be a positive finite number, got ${value}`);
  }
  return value;
}

/**
 * Resubscribes to the source after errors worth retrying, waiting an
 * exponentially growing, jittered delay between attempts. Built on RxJS
 * `retry` and a scheduler, so marble tests can drive it; unsubscribing during
 * a wait cancels the wait.
 */
export function retryBackoff<T>(options: RetryBackoffOptions = {}): MonoTypeOperatorFunction<T> {
  const maxRetries = options.maxRetries ?? 8;
  if (!(maxRetries >= 0) || (Number.isFinite(maxRetries) && !Number.isInteger(maxRetries))) {
    throw new RangeError(`retryBackoff: maxRetries must be a whole number or Infinity, got ${maxRetries}`);
  }
  const schedule: BackoffSchedule = {
    initialDelayMs: finitePositive('initialDelayMs', options.initialDelayMs ?? 500),
    maxDelayMs: finitePositive('maxDelayMs', options.maxDelayMs ?? 30_000),
    multiplier: options.multiplier ?? 2,
    jitter: options.jitter ?? 'full',
  };
  if (!(schedule.multiplier >= 1) || !Number.isFinite(schedule.multiplier)) {
    throw new RangeError(
      `retryBackoff: multiplier must be a finite number of 1 or more, got ${schedule.multiplier}`,
    );
  }
  if (schedule.maxDelayMs < schedule.initialDelayMs) {
    throw new RangeError('retryBackoff: maxDelayMs must be at least initialDelayMs');
  }
  if (!['full', 'equal', 'decorrelated', 'none'].includes(schedule.jitter)) {
    throw new RangeError(`retryBackoff: jitter must be 'full', 'equal', 'decorrelated' or 'none'`);
  }
  const shouldRetry =
    options.shouldRetry ?? ((error: unknown) => isTranscriptionError(error) && error.retryable === true);
  const random = options.random ?? Math.random;
  const scheduler = options.scheduler ?? asyncScheduler;

  return (source) =>
    defer(() => {
      let previous = schedule.initialDelayMs;
      return source.pipe(
        retry({
          count: maxRetries,
          resetOnSuccess: options.resetOnSuccess ?? true,
          delay: (error: unknown, attempt: number) => {
            if (!shouldRetry(error, attempt)) return throwError(() => error);
            const delayMs = backoffDelay(schedule, attempt, previous, random);
            if (!(delayMs >= 0) || !Number.isFinite(delayMs)) {
              return throwError(() => new RangeError(`retryBackoff: computed a delay of ${delayMs} ms`));
            }
            previous = delayMs;
            options.onRetry?.({ error, attempt, delayMs });
            return timer(delayMs, scheduler);
          },
        }),
      );
    });
}
