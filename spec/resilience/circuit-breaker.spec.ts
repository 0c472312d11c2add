import { Observable, of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { isTranscriptionError, TranscriptionError } from '../../src/errors/transcription-error.js';
import { circuitBreaker } from '../../src/operators/circuit-breaker.js';
import { type BreakerState, CircuitBreaker } from '../../src/resilience/circuit-breaker.js';

const down = new TranscriptionError('could not connect: ECONNREFUSED', { kind: 'network', retryable: true });

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const failing = throwError(() => down);
const working = of('open');

describe('CircuitBreaker (marbles)', () => {
  it('opens after N consecutive failures, fails fast, half-opens after the wait, closes on a trial success', () => {
    const test = scheduler();
    test.run(({ flush }) => {
      const breaker = new CircuitBreaker({
        strategy: { kind: 'consecutive', failures: 3 },
        halfOpenAfterMs: 10,
        scheduler: test,
      });
      const states: Array<[number, BreakerState]> = [];
      breaker.state$.subscribe((s) => states.push([test.now(), s]));
      const outcomes: Array<[number, string]> = [];
      const attempt = (source: Observable<string>): void => {
        source.pipe(circuitBreaker(breaker)).subscribe({
          next: () => outcomes.push([test.now(), 'ok']),
          error: (e: unknown) => outcomes.push([test.now(), isTranscriptionError(e) ? e.kind : 'error']),
        });
      };
      for (const t of [1, 2, 3]) test.schedule(() => attempt(failing), t);
      test.schedule(() => attempt(working), 5); // open: fails fast, the source is not tried
      test.schedule(() => attempt(working), 14); // half-open: a trial, which works
      test.schedule(() => attempt(failing), 15); // closed again: one failure does not open it
      flush();
      expect(outcomes).toEqual([
        [1, 'network'],
        [2, 'network'],
        [3, 'network'],
        [5, 'breaker-open'],
        [14, 'ok'],
        [15, 'network'],
      ]);
      expect(states).toEqual([
        [0, 'closed'],
        [3, 'open'],
        [13, 'half-open'],
        [14, 'closed'],
      ]);
    });
  });

  it('goes back to open when the trial fails, and admits only the set number of trials at once', () => {
    const test = scheduler();
    test.run(({ flush }) => {
      const breaker = new CircuitBreaker({
        strategy: { kind: 'consecutive', failures: 1 },
        halfOpenAfterMs: 5,
        scheduler: test,
      });
      const states: BreakerState[] = [];
      breaker.state$.subscribe((s) => states.push(s));
      failing.pipe(circuitBreaker(breaker)).subscribe({ error: () => {} });
      expect(breaker.state).toBe('open');
      test.schedule(() => {
        expect(breaker.state).toBe('half-open');
        const first = breaker.acquire();
        const second = breaker.acquire();
        expect(isTranscriptionError(first)).toBe(false);
        expect(isTranscriptionError(second) && second.kind).toBe('breaker-open');
        (first as { failure(): void }).failure();
        expect(breaker.state).toBe('open');
      }, 6);
      flush();
      // Open again after the failed trial, and half-open again after another wait.
      expect(states).toEqual(['closed', 'open', 'half-open', 'open', 'half-open']);
    });
  });

  it('failure-rate strategy: opens when the share of failures over the last N attempts reaches the threshold', () => {
    const breaker = new CircuitBreaker({ strategy: { kind: 'rate', threshold: 0.5, window: 4 } });
    const run = (ok: boolean): void => {
      const ticket = breaker.acquire();
      if (isTranscriptionError(ticket)) throw ticket;
      if (ok) ticket.success();
      else ticket.failure();
    };
    run(true);
    run(false);
    run(true);
    expect(breaker.state).toBe('closed'); // 3 attempts: under the window
    run(true);
    run(false); // the last 4: failed, ok, ok, failed: half of them
    expect(breaker.state).toBe('open');
  });

  it('does not count bad audio, overflow or cancellation against the endpoint', () => {
    const breaker = new CircuitBreaker({ strategy: { kind: 'consecutive', failures: 1 } });
    const badAudio = new TranscriptionError('x.wav is not a WAV file', {
      kind: 'bad-audio',
      retryable: false,
    });
    const overflow = new TranscriptionError('overflow', { kind: 'overflow', retryable: false });
    throwError(() => badAudio)
      .pipe(circuitBreaker(breaker))
      .subscribe({ error: () => {} });
    throwError(() => overflow)
      .pipe(circuitBreaker(breaker))
      .subscribe({ error: () => {} });
    new Observable(() => {}).pipe(circuitBreaker(breaker)).subscribe().unsubscribe();
    expect(breaker.state).toBe('closed');
  });

  it('counts success at the first value that says so, not at completion', () => {
    const breaker = new CircuitBreaker({ strategy: { kind: 'consecutive', failures: 2 } });
    of('connecting')
      .pipe(circuitBreaker(breaker, (v) => v === 'open'))
      .subscribe();
    throwError(() => down)
      .pipe(circuitBreaker(breaker))
      .subscribe({ error: () => {} });
    expect(breaker.state).toBe('closed');
    throwError(() => down)
      .pipe(circuitBreaker(breaker))
      .subscribe({ error: () => {} });
    expect(breaker.state).toBe('open');
  });

  it('rejects nonsense options', () => {
    expect(() => new CircuitBreaker({ strategy: { kind: 'consecutive', failures: 0 } })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ strategy: { kind: 'rate', threshold: 1.5, window: 5 } })).toThrow(
      RangeError,
    );
    expect(() => new CircuitBreaker({ halfOpenTrials: 0 })).toThrow(RangeError);
  });
});
