import { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { TranscriptionError } from '../../src/errors/transcription-error.js';
import { backoffDelay, retryBackoff } from '../../src/operators/retry-backoff.js';

const transient = new TranscriptionError('server closed with 1006', {
  kind: 'network',
  retryable: true,
  closeCode: 1006,
});
const fatal = new TranscriptionError('server closed with 1008: bad token', {
  kind: 'auth',
  retryable: false,
  closeCode: 1008,
});

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A fixed sequence of "random" numbers, repeating. */
function fixedRandom(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('backoffDelay', () => {
  const schedule = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 'none' as const };
  it('grows exponentially and is capped', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(schedule, n, 0, Math.random))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });
  it('full jitter: uniform in [0, exponential)', () => {
    expect(backoffDelay({ ...schedule, jitter: 'full' }, 3, 0, () => 0.25)).toBe(100);
  });
  it('equal jitter: half fixed, half uniform', () => {
    expect(backoffDelay({ ...schedule, jitter: 'equal' }, 3, 0, () => 0.5)).toBe(300);
  });
  it('decorrelated jitter: between the initial delay and three times the last, capped', () => {
    const decorrelated = { ...schedule, jitter: 'decorrelated' as const };
    expect(backoffDelay(decorrelated, 2, 200, () => 0)).toBe(100);
    expect(backoffDelay(decorrelated, 2, 200, () => 0.5)).toBe(350);
    expect(backoffDelay(decorrelated, 5, 900, () => 0.99)).toBe(1000);
  });
});

describe('retryBackoff (marbles, fixed random source)', () => {
  it('waits 100, 200, 400 (no jitter) between attempts and gives up after maxRetries', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#', {}, transient);
      const result = source.pipe(
        retryBackoff({ maxRetries: 3, initialDelayMs: 100, jitter: 'none', scheduler: undefined }),
      );
      expectObservable(result).toBe('- 100ms - 200ms - 400ms -#', {}, transient);
      expectSubscriptions(source.subscriptions).toBe([
        '^!',
        '- 100ms ^!',
        '- 100ms - 200ms ^!',
        '- 100ms - 200ms - 400ms ^!',
      ]);
    });
  });

  it('applies full jitter from the random source', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('-#', {}, transient);
      const result = source.pipe(
        retryBackoff({ maxRetries: 2, initialDelayMs: 100, random: fixedRandom(0.5, 0.25) }),
      );
      // 0.5 * 100 = 50, then 0.25 * 200 = 50.
      expectObservable(result).toBe('- 50ms - 50ms -#', {}, transient);
    });
  });

  it('does not retry a fatal error: it surfaces at once with its code', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('--#', {}, fatal);
      expectObservable(source.pipe(retryBackoff({ initialDelayMs: 100 }))).toBe('--#', {}, fatal);
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
  });

  it('asks shouldRetry, with the attempt number', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const attempts: number[] = [];
      const source = cold('-#', {}, new Error('plain'));
      const result = source.pipe(
        retryBackoff({
          initialDelayMs: 10,
          jitter: 'none',
          shouldRetry: (_error, attempt) => {
            attempts.push(attempt);
            return attempt < 3;
          },
        }),
      );
      expectObservable(result).toBe('- 10ms - 20ms -#', {}, new Error('plain'));
      flush();
      expect(attempts).toEqual([1, 2, 3]);
    });
  });

  it('counts attempts from zero again after the source emits (resetOnSuccess)', () => {
    scheduler().run(({ cold, expectObservable }) => {
      let subscriptions = 0;
      const source = cold<number>('-#', {}, transient);
      const flaky = cold('a#', { a: 1 }, transient);
      const result = new Observable<number>((subscriber) => {
        subscriptions += 1;
        return (subscriptions === 2 ? flaky : source).subscribe(subscriber);
      });
      const retried = result.pipe(retryBackoff({ maxRetries: 2, initialDelayMs: 10, jitter: 'none' }));
      // Fails (wait 10), succeeds then fails (count reset: wait 10 again, not 20), fails (20), gives up.
      expectObservable(retried).toBe('- 10ms a 10ms - 20ms -#', { a: 1 }, transient);
    });
  });

  it('cancels the wait when unsubscribed during it', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-#', {}, transient);
      const result = source.pipe(retryBackoff({ initialDelayMs: 100, jitter: 'none' }));
      expectObservable(result, '^ 50ms !').toBe('-');
      expectSubscriptions(source.subscriptions).toBe(['^!']);
    });
  });

  it('rejects schedules that are not finite', () => {
    expect(() => retryBackoff({ initialDelayMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => retryBackoff({ maxDelayMs: Number.NaN })).toThrow(RangeError);
    expect(() => retryBackoff({ multiplier: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => retryBackoff({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(RangeError);
    expect(() => retryBackoff({ maxRetries: 1.5 })).toThrow(RangeError);
  });
});
