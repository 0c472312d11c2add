import { isTranscriptionError, type TranscriptionError } from '../errors/transcription-error.js';
import { type BackoffSchedule, backoffDelay } from '../operators/retry-backoff.js';
import type { BreakerTicket, CircuitBreaker } from '../resilience/circuit-breaker.js';

/** How a session reconnects (resolved options). */
export interface ReconnectConfig extends BackoffSchedule {
  readonly maxRetries: number;
  readonly random: () => number;
}

/** What to do after a connection failed. */
export type ReconnectDecision =
  | { readonly retry: true; readonly attempt: number; readonly delayMs: number }
  /** `exhausted`: the error was retryable, but the budget is spent (`attempts` connections made no progress). */
  | { readonly retry: false; readonly exhausted: boolean; readonly attempts: number };

/** Failures that say something about the endpoint (not bad audio, an overflow, or the breaker itself). */
function isEndpointFailure(error: unknown): boolean {
  if (!isTranscriptionError(error)) return false;
  return error.kind !== 'bad-audio' && error.kind !== 'overflow' && error.kind !== 'breaker-open';
}

/**
 * The retry budget of one session: it counts progress, not opens. A
 * connection is a success, for the retry count and for the shared breaker
 * alike, only once it has moved the session on (`progress`: the server
 * answered audio no connection had answered, or settled audio not settled
 * before). A server that accepts connections and drops them, or goes silent,
 * spends `maxRetries` attempts with growing, jittered delays (from
 * `backoffDelay`, floored by a Retry-After the server sent), and the breaker
 * sees every one of them fail.
 */
export class ReconnectPolicy {
  private attempt = 0;
  private lastDelayMs = 0;
  private ticket: BreakerTicket | undefined;
  private progressed = false;

  constructor(
    private readonly config: ReconnectConfig | undefined,
    private readonly breaker: CircuitBreaker | undefined,
  ) {}

  /** Retries since the last connection that made progress. */
  get attempts(): number {
    return this.attempt;
  }

  /** Before a connection: undefined to go on, or the breaker's `breaker-open` error. */
  acquire(): TranscriptionError | undefined {
    this.progressed = false;
    const ticket = this.breaker?.acquire();
    if (ticket === undefined) return undefined;
    if (!('success' in ticket)) return ticket;
    this.ticket = ticket;
    return undefined;
  }

  /** The connection moved the session on: a success for the breaker, and the count starts over. */
  progress(): void {
    if (this.progressed) return;
    this.progressed = true;
    this.ticket?.success();
    this.ticket = undefined;
    this.attempt = 0;
    this.lastDelayMs = 0;
  }

  /** The connection ended without failing (a rotation, the end of the session, an unsubscribe). */
  release(): void {
    this.ticket?.release();
    this.ticket = undefined;
  }

  /** The connection failed with `error`: whether and when to try again. */
  failed(error: unknown): ReconnectDecision {
    if (!this.progressed && isEndpointFailure(error)) this.ticket?.failure();
    else this.ticket?.release();
    this.ticket = undefined;
    const config = this.config;
    const retryable = isTranscriptionError(error) && error.retryable;
    if (config === undefined || !retryable || this.attempt >= config.maxRetries) {
      return { retry: false, exhausted: config !== undefined && retryable, attempts: this.attempt + 1 };
    }
    this.attempt += 1;
    let delayMs = backoffDelay(config, this.attempt, this.lastDelayMs, config.random);
    // The server said how long to wait (429, 503): never sooner, and never longer than maxDelayMs.
    const asked = error.retryAfterMs;
    if (asked !== undefined && asked > delayMs) delayMs = Math.min(asked, config.maxDelayMs);
    this.lastDelayMs = delayMs;
    return { retry: true, attempt: this.attempt, delayMs };
  }
}
