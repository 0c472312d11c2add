import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Credentials of a `/v1/realtime` upgrade, as OpenAI takes them: the header
 * `Authorization: Bearer KEY` (Node), or, from a browser, which cannot set
 * headers, the subprotocols `realtime, openai-insecure-api-key.KEY` (an
 * ephemeral `ek_` key); the server then selects `realtime`.
 */

/** The subprotocol a browser offers its key in, before the key. */
export const KEY_PROTOCOL_PREFIX = 'openai-insecure-api-key.';
/** The subprotocol the server selects. */
export const REALTIME_PROTOCOL = 'realtime';

function offeredProtocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  if (typeof header !== 'string') return [];
  return header
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** The key a request carries (from its bearer header or its key subprotocol), if any. */
export function realtimeCredential(request: IncomingMessage): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match !== null) return match[1];
  }
  const keyed = offeredProtocols(request).find((p) => p.startsWith(KEY_PROTOCOL_PREFIX));
  const key = keyed?.slice(KEY_PROTOCOL_PREFIX.length);
  return key === undefined || key === '' ? undefined : key;
}

/** `realtime` if the client offered it; browsers fail a handshake whose selection they did not offer. */
export function selectRealtimeProtocol(protocols: ReadonlySet<string>): string | false {
  return protocols.has(REALTIME_PROTOCOL) ? REALTIME_PROTOCOL : false;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The server's keys and the ephemeral keys minted from them, checked in
 * constant time per key. Keys are never logged; an ephemeral key is
 * forgotten once it has expired.
 */
export class RealtimeKeys {
  private readonly digests: readonly Buffer[];
  /** Ephemeral keys by digest (hex), with their expiry (ms since the epoch). */
  private readonly ephemeral = new Map<string, number>();

  constructor(
    keys: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
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

  /** A standing key of the server's (what may mint ephemeral keys). */
  isApiKey(credential: string | undefined): boolean {
    if (this.open) return true;
    if (credential === undefined) return false;
    const offered = digest(credential);
    let match = false;
    for (const known of this.digests) match = timingSafeEqual(known, offered) || match;
    return match;
  }

  /** A key that may open a session: a standing key, or an ephemeral one not expired. */
  admits(credential: string | undefined): boolean {
    if (this.isApiKey(credential)) return true;
    if (credential === undefined) return false;
    const id = digest(credential).toString('hex');
    const expiresAt = this.ephemeral.get(id);
    if (expiresAt === undefined) return false;
    if (expiresAt <= this.now()) {
      this.ephemeral.delete(id);
      return false;
    }
    return true;
  }

  /** Remembers an ephemeral key until `expiresAt` (ms since the epoch). */
  addEphemeral(key: string, expiresAt: number): void {
    const now = this.now();
    for (const [id, at] of this.ephemeral) if (at <= now) this.ephemeral.delete(id);
    this.ephemeral.set(digest(key).toString('hex'), expiresAt);
  }
}
