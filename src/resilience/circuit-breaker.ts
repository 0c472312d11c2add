import {
  asyncScheduler,
  BehaviorSubject,
  type Observable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { TranscriptionError } from '../errors/transcription-error.js';

/** Closed: calls go through. Open: they fail fast. Half-open: a few trials go through. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** When the breaker opens. */
export type BreakerStrategy =
  /** After this many failures in a row. */
  | { readonly kind: 'consecutive'; readonly failures: number }
  /** When at least `threshold` (0..1) of the last `window` attempts failed, once `minimumAttempts` were made. */
  | {
      readonly kind: 'rate';
      readonly threshold: number;
      readonly window: number;
      readonly minimumAttempts?: number;
    };

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Default: 5 consecutive failures. */
  readonly strategy?: BreakerStrategy;
  /** How long it stays open before letting trials through. Default 10,000 ms. */
  readonly halfOpenAfterMs?: number;
  /** Trials let through at once when half-open. Default 1. */
  readonly halfOpenTrials?: number;
  /** For tests: the clock and timers. */
  readonly scheduler?: SchedulerLike;
}

/** One attempt let through the breaker: report how it went, once. */
export interface BreakerTicket {
  /** The attempt worked (for a connection: open and configured). */
  success(): void;
  /** The attempt failed. */
  failure(): void;
  /** The attempt ended without a verdict (cancelled, or a failure that is not the endpoint's). */
  release(): void;
}

/**
 * A circuit breaker for an endpoint, shared by every session to it: after
 * too many failures it opens and fails attempts at once (a `breaker-open`
 * TranscriptionError) instead of piling more load on a server that is down;
 * after `halfOpenAfterMs` it lets trial attempts through, and closes again
 * when one succeeds.
 */
export class CircuitBreaker {
  private readonly strategy: BreakerStrategy;
  private readonly halfOpenAfterMs: number;
  private readonly halfOpenTrials: number;
  private readonly scheduler: SchedulerLike;
  private readonly stateSubject = new BehaviorSubject<BreakerState>('closed');
  private consecutiveFailures = 0;
  private readonly outcomes: boolean[] = []; // last attempts, true = failure
  private openedAt = 0;
  private trialsOut = 0;
  private halfOpenTimer: Subscription | undefined;

  /** The state, now and as it changes. */
  readonly state$: Observable<BreakerState> = this.stateSubject.asObservable();

  constructor(options: CircuitBreakerOptions = {}) {
    this.strategy = options.strategy ?? { kind: 'consecutive', failures: 5 };
    this.halfOpenAfterMs = options.halfOpenAfterMs ?? 10_000;
    this.halfOpenTrials = options.halfOpenTrials ?? 1;
    this.scheduler = options.scheduler ?? asyncScheduler;
    if (this.strategy.kind === 'consecutive' && !(this.strategy.failures >= 1)) {
      throw new RangeError('CircuitBreaker: failures must be 1 or more');
    }
    if (
      this.strategy.kind === 'rate' &&
      (!(this.strategy.threshold > 0 && this.strategy.threshold <= 1) || !(this.strategy.window >= 1))
    ) {
      throw new RangeError('CircuitBreaker: threshold must be in (0, 1] and window 1 or more');
    }
    if (!(this.halfOpenAfterMs >= 0) || !(this.halfOpenTrials >= 1)) {
      throw new RangeError('CircuitBreaker: halfOpenAfterMs must be 0 or more and halfOpenTrials 1 or more');
    }
  }

  get state(): BreakerState {
    this.maybeHalfOpen();
    return this.stateSubject.value;
  }

  /** Asks to make an attempt: a ticket, or the `breaker-open` error to fail with at once. */
  acquire(): BreakerTicket | TranscriptionError {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.trialsOut >= this.halfOpenTrials)) {
      const waitMs = Math.max(0, this.openedAt + this.halfOpenAfterMs - this.scheduler.now());
      return new TranscriptionError(
        state === 'open'
          ? `circuit breaker open after repeated failures; next trial in ${Math.ceil(waitMs)} ms`
          : 'circuit breaker half-open and its trial is under way; not connecting',
        { kind: 'breaker-open', retryable: true },
      );
    }
    const trial = state === 'half-open';
    if (trial) this.trialsOut += 1;
    let settled = false;
    const settle = (outcome: 'success' | 'failure' | 'release'): void => {
      if (settled) return;
      settled = true;
      if (trial) this.trialsOut -= 1;
      if (outcome === 'success') this.onSuccess();
      else if (outcome === 'failure') this.onFailure(trial);
    };
    return {
      success: () => settle('success'),
      failure: () => settle('failure'),
      release: () => settle('release'),
    };
  }

  private record(failed: boolean): void {
    if (this.strategy.kind !== 'rate') return;
    this.outcomes.push(failed);
    if (this.outcomes.length > this.strategy.window) this.outcomes.shift();
  }

  private onSuccess(): void {
    this.consecutiveFailures = 0;
    this.record(false);
    if (this.stateSubject.value !== 'closed') {
      this.outcomes.length = 0;
      this.transition('closed');
    }
  }

  private onFailure(trial: boolean): void {
    this.consecutiveFailures += 1;
    this.record(true);
    if (trial || this.stateSubject.value === 'half-open' || this.shouldOpen()) this.open();
  }

  private shouldOpen(): boolean {
    if (this.stateSubject.value !== 'closed') return false;
    if (this.strategy.kind === 'consecutive') return this.consecutiveFailures >= this.strategy.failures;
    const attempts = this.outcomes.length;
    if (attempts < (this.strategy.minimumAttempts ?? this.strategy.window)) return false;
    const failures = this.outcomes.filter(Boolean).length;
    return failures / attempts >= this.strategy.threshold;
  }

  private open(): void {
    this.openedAt = this.scheduler.now();
    this.transition('open');
    this.halfOpenTimer?.unsubscribe();
    // Tell listeners when trials may start; attempts check the clock themselves.
    if (this.stateSubject.observed) {
      this.halfOpenTimer = this.scheduler.schedule(() => this.maybeHalfOpen(), this.halfOpenAfterMs);
    }
  }

  private maybeHalfOpen(): void {
    if (this.stateSubject.value === 'open' && this.scheduler.now() >= this.openedAt + this.halfOpenAfterMs) {
      this.transition('half-open');
    }
  }

  private transition(state: BreakerState): void {
    if (state !== 'open') {
      this.halfOpenTimer?.unsubscribe();
      this.halfOpenTimer = undefined;
    }
    if (this.stateSubject.value !== state) this.stateSubject.next(state);
  }
}
