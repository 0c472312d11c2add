import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Credentials of a `/v1/listen` upgrade, as Deepgram takes them: the header
 * `Authorization: Token KEY` (or `Bearer TOKEN`), or, from a browser, which
 * cannot set headers, the subprotocols `token, KEY` (or `bearer, TOKEN`).
 * The server must then select `token` (or `bearer`) as the subprotocol, or
 * Chromium fails the handshake.
 */

/** The subprotocols that carry credentials, in Deepgram's spelling. */
const SCHEMES = ['token', 'bearer'] as const;

/** The subprotocols a request offered, in order. */
function offeredProtocols(request: IncomingMessage): string[] {
  const header = request.headers['sec-websocket-protocol'];
  if (typeof header !== 'string') return [];
  return header
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** The credential a request carries (the key or token, without its scheme), if any. */
export function requestCredential(request: IncomingMessage): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^(token|bearer)\s+(\S+)\s*$/i.exec(authorization);
    if (match !== null) return match[2];
  }
  const protocols = offeredProtocols(request);
  const scheme = protocols[0]?.toLowerCase();
  if (scheme !== undefined && (SCHEMES as readonly string[]).includes(scheme) && protocols[1] !== undefined) {
    return protocols[1];
  }
  return undefined;
}

/** The subprotocol to select for a `/v1/listen` upgrade: `token` or `bearer` if offered, else none. */
export function selectDeepgramProtocol(protocols: ReadonlySet<string>): string | false {
  for (const scheme of SCHEMES) {
    for (const protocol of protocols) if (protocol.toLowerCase() === scheme) return protocol;
  }
  return false;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Checks credentials against the server's keys, in constant time per key. Keys are never logged. */
export class KeyRing {
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

  /** True when the request may connect. */
  admits(request: IncomingMessage): boolean {
    return this.matches(requestCredential(request));
  }

  /** True when the server has no keys, or `credential` is one of them. */
  matches(credential: string | undefined): boolean {
    if (this.open) return true;
    if (credential === undefined) return false;
    const offered = digest(credential);
    let match = false;
    for (const known of this.digests) match = timingSafeEqual(known, offered) || match;
    return match;
  }
}
