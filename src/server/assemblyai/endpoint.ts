import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { closeReason } from '../client-message.js';
import type { ProtocolEndpoint, ServerConnection } from '../protocol-endpoint.js';
import { queryOf } from '../protocol-endpoint.js';
import type { SessionCounters } from '../queued-session.js';
import type { ServerMetrics } from '../server-metrics.js';
import { AssemblyAISession, type AssemblyAISessionOptions } from './assemblyai-session.js';
import { AssemblyAIKeys, TokenStore } from './auth.js';
import { AssemblyAICloseCode, errorMessage } from './messages.js';
import { parseAssemblyAIQuery } from './query.js';
import { MAX_SESSION_SECONDS, serveToken, TOKEN_PATH } from './token-route.js';

/** The path of AssemblyAI's Universal-Streaming v3 API. */
export const ASSEMBLYAI_PATH = '/v3/ws';

/** Options of the `/v3/ws` endpoint. */
export interface AssemblyAIEndpointOptions extends AssemblyAISessionOptions {
  /** Keys a client must present (raw, in `Authorization`, or by a token minted with one); empty: any, or none. */
  readonly apiKeys: readonly string[];
  /** The longest a session lives before 3008, in ms. Default 3 h, as AssemblyAI. */
  readonly maxSessionMs?: number;
}

/**
 * AssemblyAI's Universal-Streaming v3 endpoint on the reference server, with
 * its token route. As AssemblyAI does, the WebSocket opens first and a
 * refusal comes on it: an `Error` message, then the close (1008 for
 * credentials, 3006 for the query), before any `Begin`.
 */
export class AssemblyAIEndpoint implements ProtocolEndpoint {
  readonly description = "AssemblyAI's Universal-Streaming v3 (/v3/ws, GET /v3/token)";
  private readonly keys: AssemblyAIKeys;
  private readonly tokens = new TokenStore();
  private readonly maxSessionMs: number;

  constructor(
    private readonly options: AssemblyAIEndpointOptions,
    private readonly counters: SessionCounters,
    private readonly metrics: ServerMetrics,
  ) {
    this.keys = new AssemblyAIKeys(options.apiKeys);
    this.maxSessionMs = options.maxSessionMs ?? MAX_SESSION_SECONDS * 1000;
    if (!(this.maxSessionMs > 0) || !Number.isFinite(this.maxSessionMs)) {
      throw new RangeError(`maxSessionMs must be a positive number, got ${this.maxSessionMs}`);
    }
  }

  ownsUpgrade(path: string): boolean {
    return path === ASSEMBLYAI_PATH;
  }

  handleRequest(path: string, request: IncomingMessage, response: ServerResponse): boolean {
    if (path !== TOKEN_PATH) return false;
    serveToken(request, response, this.keys, this.tokens);
    return true;
  }

  /** Past the server's session limits: `Error` 3009 and close 3009, as AssemblyAI past its concurrency limit. */
  refuseCapacity(
    wss: WebSocketServer,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    reason: string,
  ): void {
    wss.handleUpgrade(request, socket, head, (ws) =>
      refuseOpen(
        ws,
        AssemblyAICloseCode.tooManySessions,
        `Unauthorized Connection: Too many concurrent sessions (${reason})`,
      ),
    );
  }

  upgrade(
    wss: WebSocketServer,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    onSession: (session: ServerConnection) => void,
  ): void {
    const query = queryOf(request.url);
    const params = new URLSearchParams(query);
    const token = params.get('token');
    let maxSessionMs: number | undefined = this.maxSessionMs;
    let unauthorized: string | undefined;
    if (!this.keys.open) {
      if (token !== null) {
        const grant = this.tokens.redeem(token);
        if (grant === undefined) unauthorized = 'Unauthorized Connection: Invalid or expired temporary token';
        else maxSessionMs = Math.min(grant, this.maxSessionMs);
      } else if (request.headers.authorization === undefined) {
        unauthorized = 'Unauthorized Connection: Missing Authorization header';
      } else if (!this.keys.admitsHeader(request)) {
        unauthorized = 'Unauthorized Connection: Invalid API key';
      }
    }
    const config = unauthorized === undefined ? parseAssemblyAIQuery(query, this.options.engine) : undefined;
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (unauthorized !== undefined) return refuseOpen(ws, AssemblyAICloseCode.unauthorized, unauthorized);
      if (config === undefined || 'refusal' in config) {
        return refuseOpen(ws, AssemblyAICloseCode.invalidMessage, config?.refusal ?? 'Invalid query');
      }
      onSession(new AssemblyAISession(ws, config, this.options, maxSessionMs, this.counters, this.metrics));
    });
  }
}

/** An `Error` then the close, on a socket no session runs on. */
function refuseOpen(ws: WebSocket, code: number, text: string): void {
  ws.on('error', () => {}); // a client that hung up first: nothing to tell it
  ws.send(JSON.stringify(errorMessage(code, text)));
  ws.close(code, closeReason(text));
  // A client that never answers the close is cut off.
  const timer = setTimeout(() => ws.terminate(), 1000);
  ws.once('close', () => clearTimeout(timer));
}
