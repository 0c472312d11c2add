import { CloseCode } from './client-message.js';
import type { ServerConnection } from './protocol-endpoint.js';

/** Limits on how long sessions live, enforced the same way on every protocol. */
export interface SessionLifetimeLimits {
  /** Close a session this long after it opened (1001, saying so; a client reconnects to go on). Default: no limit. */
  readonly maxSessionMs?: number;
  /** Close a session that sends nothing for this long (1001, saying so). Default: no limit. */
  readonly idleTimeoutMs?: number;
}

function positiveOrUndefined(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!(value > 0) || !Number.isFinite(value))
    throw new RangeError(`${name} must be a positive number of ms, got ${value}`);
  return value;
}

/**
 * One timer for the whole server (not one per session) that closes sessions
 * past their length or idle limit. It checks at a tenth of the shorter limit
 * (at least every 50 ms, at most every second), so a session ends within that
 * much of its limit.
 */
export class SessionLimits {
  private readonly maxSessionMs: number | undefined;
  private readonly idleTimeoutMs: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    limits: SessionLifetimeLimits,
    private readonly sessions: ReadonlySet<ServerConnection>,
  ) {
    this.maxSessionMs = positiveOrUndefined('maxSessionMs', limits.maxSessionMs);
    this.idleTimeoutMs = positiveOrUndefined('idleTimeoutMs', limits.idleTimeoutMs);
    const shortest = Math.min(this.maxSessionMs ?? Infinity, this.idleTimeoutMs ?? Infinity);
    if (shortest === Infinity) return;
    this.timer = setInterval(() => this.sweep(), Math.min(1000, Math.max(50, shortest / 10)));
    this.timer.unref();
  }

  private sweep(): void {
    const now = performance.now();
    for (const session of this.sessions) {
      if (this.maxSessionMs !== undefined && now - session.openedAt >= this.maxSessionMs) {
        void session.shutdown(
          CloseCode.goingAway,
          `session reached this server's limit of ${this.maxSessionMs} ms; reconnect to go on`,
        );
      } else if (this.idleTimeoutMs !== undefined && now - session.lastMessageAt >= this.idleTimeoutMs) {
        void session.shutdown(
          CloseCode.goingAway,
          `no message for ${this.idleTimeoutMs} ms; closing an idle session`,
        );
      }
    }
  }

  /** Stops the timer. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
