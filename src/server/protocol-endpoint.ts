import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';

/** A connection the server runs, whatever its protocol. */
export interface ServerConnection {
  shutdown(code: number, reason: string): Promise<void>;
  readonly finished: Promise<void>;
  /** When it opened, and when its last message came (`performance.now()`), for the server's session-length and idle limits. */
  readonly openedAt: number;
  readonly lastMessageAt: number;
}

/**
 * One provider's emulation on the reference server: the paths it owns, how it
 * checks and answers an upgrade, and any plain HTTP routes it serves (such as
 * a token endpoint). The server asks each endpoint in turn; Vosk takes every
 * path none of them claims.
 */
export interface ProtocolEndpoint {
  /** How the server's landing page names it: `Deepgram's live protocol (/v1/listen)`. */
  readonly description: string;
  /** True when a WebSocket upgrade on this path (query removed, no trailing slash) is this endpoint's. */
  ownsUpgrade(path: string): boolean;
  /** The subprotocol to select from those a client offered (browsers fail a handshake whose selection they did not offer). */
  selectProtocol?(protocols: Set<string>, request: IncomingMessage): string | false;
  /** Headers to add to the 101 response of one of its upgrades. */
  addHeaders?(headers: string[], request: IncomingMessage): void;
  /** Refuses the upgrade over HTTP, or opens a connection and hands it to `onConnection`. */
  upgrade(
    wss: WebSocketServer,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    onConnection: (connection: ServerConnection) => void,
  ): void;
  /**
   * Refuses an upgrade the server has no room for (its session limits, or a
   * shutdown) in the protocol's own way, such as an HTTP 429. Without it, the
   * server accepts the upgrade and closes at once with 1013 (try again later)
   * and `reason`.
   */
  refuseCapacity?(
    wss: WebSocketServer,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    reason: string,
  ): void;
  /** Answers a plain HTTP request if it is one of this endpoint's routes (AssemblyAI's `GET /v3/token`); returns false otherwise. */
  handleRequest?(path: string, request: IncomingMessage, response: ServerResponse): boolean;
}

/** The path of a request URL: `/v1/listen?model=x` and `/v1/listen/` give `/v1/listen`. */
export function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?', 1)[0] ?? '/';
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** The query string of a request URL, without its `?`. */
export function queryOf(url: string | undefined): string {
  return (url ?? '').split('?').slice(1).join('?');
}
