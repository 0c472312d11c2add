import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { ProtocolEndpoint, ServerConnection } from '../protocol-endpoint.js';
import { queryOf } from '../protocol-endpoint.js';
import type { SessionCounters } from '../queued-session.js';
import type { ServerMetrics } from '../server-metrics.js';
import { RealtimeKeys, realtimeCredential, selectRealtimeProtocol } from './auth.js';
import { CLIENT_SECRETS_PATH, handleClientSecrets } from './client-secrets.js';
import { invalidApiKeyMessage } from './messages.js';
import { RealtimeSession, type RealtimeSessionOptions } from './realtime-session.js';

/** The path of OpenAI's Realtime API. */
export const OPENAI_REALTIME_PATH = '/v1/realtime';

/** The close OpenAI gives a connection whose key it refused, after the `error` event. */
const INVALID_KEY_CLOSE = 3000;

/** Options of the `/v1/realtime` endpoint. */
export interface RealtimeEndpointOptions extends RealtimeSessionOptions {
  /** Keys a client must present; empty: any credentials, or none, are taken. */
  readonly apiKeys: readonly string[];
}

/** A refused upgrade over HTTP, with OpenAI's error body. */
function writeHttpError(socket: Duplex, status: number, message: string, param: string | null): void {
  const json = JSON.stringify({ error: { message, type: 'invalid_request_error', param, code: null } });
  socket.on('error', () => {});
  socket.once('finish', () => socket.destroy());
  socket.end(
    [
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
      'Connection: close',
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(json)}`,
    ].join('\r\n') + `\r\n\r\n${json}`,
  );
}

/**
 * OpenAI's Realtime API on the reference server, transcription sessions only
 * (`?intent=transcription`): a connection with a key the server does not know
 * is accepted, told `invalid_api_key` and closed with 3000, as OpenAI does;
 * a good one runs a {@link RealtimeSession}. Also serves
 * `POST /v1/realtime/client_secrets` (ephemeral keys for browsers).
 */
export class RealtimeEndpoint implements ProtocolEndpoint {
  readonly description = "OpenAI's Realtime transcription (/v1/realtime?intent=transcription)";
  private readonly keys: RealtimeKeys;

  constructor(
    private readonly options: RealtimeEndpointOptions,
    private readonly counters: SessionCounters,
    private readonly metrics: ServerMetrics,
  ) {
    this.keys = new RealtimeKeys(options.apiKeys);
  }

  ownsUpgrade(path: string): boolean {
    return path === OPENAI_REALTIME_PATH;
  }

  selectProtocol(protocols: Set<string>): string | false {
    return selectRealtimeProtocol(protocols);
  }

  handleRequest(path: string, request: IncomingMessage, response: ServerResponse): boolean {
    if (path !== CLIENT_SECRETS_PATH) return false;
    handleClientSecrets(request, response, this.keys);
    return true;
  }

  upgrade(
    wss: WebSocketServer,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    onSession: (session: ServerConnection) => void,
  ): void {
    const query = new URLSearchParams(queryOf(request.url));
    const intent = query.get('intent');
    if (intent !== 'transcription') {
      const message =
        intent === null
          ? query.has('model')
            ? 'This server emulates transcription sessions only: connect with ?intent=transcription.'
            : "Missing required parameter: 'model' (or 'intent=transcription')."
          : `Invalid value for 'intent': ${JSON.stringify(intent.slice(0, 40))}. Supported values are: 'transcription'.`;
      writeHttpError(socket, 400, message, intent === null ? 'model' : 'intent');
      return;
    }
    const admitted = this.keys.admits(realtimeCredential(request));
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (!admitted) {
        ws.send(JSON.stringify(invalidApiKeyMessage()));
        ws.close(INVALID_KEY_CLOSE, 'invalid_request_error.invalid_api_key');
        // Closing handshake or not, the connection goes within a second.
        const timer = setTimeout(() => ws.terminate(), 1000);
        ws.once('close', () => clearTimeout(timer));
        return;
      }
      onSession(new RealtimeSession(ws, this.options, this.counters, this.metrics));
    });
  }
}

/** OpenAI's limit on a session's life. */
export const OPENAI_SESSION_LIMIT_MS = 60 * 60 * 1000;

/** The session limit of the server's options (`openai.sessionLimitMs`), checked. */
export function openaiSessionLimit(options: { readonly sessionLimitMs?: number } | undefined): number {
  const limit = options?.sessionLimitMs ?? OPENAI_SESSION_LIMIT_MS;
  if (!(limit > 0) || !Number.isFinite(limit) || limit > 2 ** 31 - 1) {
    throw new RangeError(
      `openai.sessionLimitMs must be a positive number of ms (at most 2^31 - 1), got ${limit}`,
    );
  }
  return limit;
}
