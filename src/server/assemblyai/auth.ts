import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Credentials of a `/v3/ws` upgrade, as AssemblyAI takes them: the raw API key
 * in the `Authorization` header (no scheme), or, from a browser, which cannot
 * set headers, `?token=` with a temporary token minted by `GET /v3/token`.
 * Tokens are single-use and must be redeemed within `expires_in_seconds`, as
 * AssemblyAI's are. Keys and tokens are never logged.
 */

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The server's keys, checked in constant time per key. */
export class AssemblyAIKeys {
  private readonly digests: readonly Buffer[];

  constructor(keys: readonly string[]) {
    for (const key of keys) {
      if (typeof key !== 'string' || key.trim() === '' || /\s|,/.test(key)) {
        throw new TypeError('apiKeys must be non-empty strings without spaces or commas');
      }
    }
    this.digests = keys.map(digest);
  }

  /** True when the server takes any credentials (it has no keys). */
  get open(): boolean {
    return this.digests.length === 0;
  }

  /** True when the request's `Authorization` header is one of the keys (the raw key, as AssemblyAI takes it). */
  admitsHeader(request: IncomingMessage): boolean {
    if (this.open) return true;
    const header = request.headers.authorization;
    if (typeof header !== 'string' || header.trim() === '') return false;
    const offered = digest(header.trim());
    let match = false;
    for (const known of this.digests) match = timingSafeEqual(known, offered) || match;
    return match;
  }
}

/** A temporary token as `GET /v3/token` mints it. */
interface TokenGrant {
  /** Until when it may open a session (ms, `Date.now()`). */
  readonly redeemBy: number;
  /** How long the session it opens may last, in ms. */
  readonly maxSessionMs: number;
}

/** The most tokens kept at once; the oldest go first past it (a client minting in a loop cannot grow the server). */
const MAX_TOKENS = 10_000;

/** Temporary tokens minted and not yet used or expired. */
export class TokenStore {
  private readonly grants = new Map<string, TokenGrant>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Mints a token to be redeemed within `expiresInSeconds`, for a session of at most `maxSessionSeconds`. */
  mint(expiresInSeconds: number, maxSessionSeconds: number): string {
    this.purge();
    if (this.grants.size >= MAX_TOKENS) {
      const oldest = this.grants.keys().next().value;
      if (oldest !== undefined) this.grants.delete(oldest);
    }
    const token = randomBytes(32).toString('hex');
    this.grants.set(token, {
      redeemBy: this.now() + expiresInSeconds * 1000,
      maxSessionMs: maxSessionSeconds * 1000,
    });
    return token;
  }

  /** Takes a token (single use): the session's longest life in ms, or undefined for one unknown, used or expired. */
  redeem(token: string): number | undefined {
    const grant = this.grants.get(token);
    if (grant === undefined) return undefined;
    this.grants.delete(token);
    return grant.redeemBy >= this.now() ? grant.maxSessionMs : undefined;
  }

  private purge(): void {
    const now = this.now();
    for (const [token, grant] of this.grants) if (grant.redeemBy < now) this.grants.delete(token);
  }
}
