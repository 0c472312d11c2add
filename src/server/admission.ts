import type { IncomingMessage } from 'node:http';

/** Limits on who may open a session, checked on every upgrade before any protocol sees it. */
export interface AdmissionLimits {
  /** Most sessions open at once; more are refused as capacity ("try again later"). Default: no limit. */
  readonly maxSessions?: number;
  /** Most sessions open at once from one client address. Default: no limit. */
  readonly maxSessionsPerAddress?: number;
  /**
   * Browser origins allowed to connect (`https://app.example.com`, exact match). A request
   * with another `Origin` header is refused with HTTP 403; one without (not a browser) is let
   * in. Default: any origin.
   */
  readonly allowedOrigins?: readonly string[];
}

/** Why an upgrade is not admitted. */
export type AdmissionRefusal =
  | { readonly kind: 'origin'; readonly reason: string }
  | { readonly kind: 'capacity'; readonly reason: string };

function positiveIntegerOrUndefined(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** The client's address, as the server sees it (no proxy headers are trusted). */
export function clientAddress(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown';
}

/**
 * Counts open sessions, in total and by client address, and says whether a
 * new upgrade may open one. A server that is draining admits nobody.
 */
export class Admission {
  private readonly maxSessions: number | undefined;
  private readonly maxPerAddress: number | undefined;
  private readonly origins: ReadonlySet<string> | undefined;
  private readonly byAddress = new Map<string, number>();
  private open = 0;
  /** Set when the server stops taking sessions (a graceful shutdown). */
  draining = false;

  constructor(limits: AdmissionLimits = {}) {
    this.maxSessions = positiveIntegerOrUndefined('maxSessions', limits.maxSessions);
    this.maxPerAddress = positiveIntegerOrUndefined('maxSessionsPerAddress', limits.maxSessionsPerAddress);
    if (limits.allowedOrigins !== undefined) {
      for (const origin of limits.allowedOrigins) {
        if (!/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/i.test(origin)) {
          throw new RangeError(
            `allowedOrigins takes origins like https://app.example.com (no path), got "${origin}"`,
          );
        }
      }
      this.origins = new Set(limits.allowedOrigins.map((origin) => origin.toLowerCase()));
    }
  }

  /** Sessions open now. */
  get sessions(): number {
    return this.open;
  }

  /** Why `request` may not open a session, or undefined if it may. */
  check(request: IncomingMessage): AdmissionRefusal | undefined {
    const origin = request.headers.origin;
    if (this.origins !== undefined && typeof origin === 'string' && !this.origins.has(origin.toLowerCase())) {
      return { kind: 'origin', reason: `origin ${origin.slice(0, 100)} is not allowed by this server` };
    }
    if (this.draining)
      return { kind: 'capacity', reason: 'server is shutting down; try another server or later' };
    if (this.maxSessions !== undefined && this.open >= this.maxSessions) {
      return {
        kind: 'capacity',
        reason: `server at capacity (${this.maxSessions} sessions); try again later`,
      };
    }
    if (
      this.maxPerAddress !== undefined &&
      (this.byAddress.get(clientAddress(request)) ?? 0) >= this.maxPerAddress
    ) {
      return {
        kind: 'capacity',
        reason: `too many sessions from this address (limit ${this.maxPerAddress}); close one or try again later`,
      };
    }
    return undefined;
  }

  /** Counts a session from `request`'s address as open; the returned function counts it closed (once). */
  enter(request: IncomingMessage): () => void {
    const address = clientAddress(request);
    this.open += 1;
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.open -= 1;
      const count = (this.byAddress.get(address) ?? 1) - 1;
      if (count <= 0) this.byAddress.delete(address);
      else this.byAddress.set(address, count);
    };
  }
}
