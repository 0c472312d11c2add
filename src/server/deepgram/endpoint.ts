import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import type { ProtocolEndpoint, ServerConnection } from '../protocol-endpoint.js';
import { queryOf } from '../protocol-endpoint.js';
import type { SessionCounters } from '../queued-session.js';
import type { ServerMetrics } from '../server-metrics.js';
import { KeyRing, selectDeepgramProtocol } from './auth.js';
import { DeepgramSession, type DeepgramSessionOptions } from './deepgram-session.js';
import { badRequest, invalidAuth, tooManyRequests, writeRefusal } from './handshake-refusal.js';
import type { ConnectionIdentity, DeepgramModelInfo } from './messages.js';
import { parseDeepgramQuery } from './query.js';

/** The path of Deepgram's live transcription API; every other path speaks Vosk. */
export const DEEPGRAM_LISTEN_PATH = '/v1/listen';

/** A stable UUID for an engine, given as Deepgram's `model_uuid`. */
function modelUuid(engineName: string): string {
  const hex = createHash('sha256').update(`rxjs-transcribe:${engineName}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Options of the `/v1/listen` endpoint. */
export interface DeepgramEndpointOptions extends DeepgramSessionOptions {
  /** Keys a client must present; empty: any credentials, or none, are taken. */
  readonly apiKeys: readonly string[];
}

/**
 * Deepgram's live transcription endpoint on the reference server: checks an
 * upgrade's credentials (401) and query (400) before it becomes a WebSocket,
 * as Deepgram does, then runs a {@link DeepgramSession} on it.
 */
export class DeepgramEndpoint implements ProtocolEndpoint {
  readonly description = "Deepgram's live protocol (/v1/listen)";
  private readonly keys: KeyRing;
  private readonly modelInfo: DeepgramModelInfo;
  private readonly modelUuid: string;
  private readonly requestIds = new WeakMap<IncomingMessage, string>();

  constructor(
    private readonly options: DeepgramEndpointOptions,
    private readonly counters: SessionCounters,
    private readonly metrics: ServerMetrics,
  ) {
    this.keys = new KeyRing(options.apiKeys);
    this.modelInfo = { name: options.engine.name, version: '1', arch: 'rxjs-transcribe' };
    this.modelUuid = modelUuid(options.engine.name);
  }

  ownsUpgrade(path: string): boolean {
    return path === DEEPGRAM_LISTEN_PATH;
  }

  /** `token` or `bearer`, which browsers send credentials in: Chromium fails a handshake that selects neither. */
  selectProtocol(protocols: Set<string>): string | false {
    return selectDeepgramProtocol(protocols);
  }

  /** Adds Deepgram's `dg-request-id` header to the 101 response of a `/v1/listen` upgrade (`ws`'s 'headers' event). */
  readonly addHeaders = (headers: string[], request: IncomingMessage): void => {
    const id = this.requestIds.get(request);
    if (id !== undefined) headers.push(`dg-request-id: ${id}`);
  };

  /** Past the server's session limits: HTTP 429, as Deepgram answers past its concurrency limit. */
  refuseCapacity(
    _wss: WebSocketServer,
    _request: IncomingMessage,
    socket: Duplex,
    _head: Buffer,
    reason: string,
  ): void {
    writeRefusal(socket, tooManyRequests(randomUUID(), reason));
  }

  /** Handles one `/v1/listen` upgrade: refuses it over HTTP, or opens a session and hands it to `onSession`. */
  upgrade(
    wss: WebSocketServer,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    onSession: (session: ServerConnection) => void,
  ): void {
    const requestId = randomUUID();
    // Credentials first: Deepgram answers 401 to a bad key whatever the query says.
    if (!this.keys.admits(request)) {
      writeRefusal(socket, invalidAuth(requestId));
      return;
    }
    const query = queryOf(request.url);
    const config = parseDeepgramQuery(query, this.options.engine);
    if ('refusal' in config) {
      writeRefusal(socket, badRequest(requestId, config.refusal));
      return;
    }
    this.requestIds.set(request, requestId);
    wss.handleUpgrade(request, socket, head, (ws) => {
      const identity: ConnectionIdentity = {
        requestId,
        modelInfo: this.modelInfo,
        modelUuid: this.modelUuid,
        created: new Date(),
      };
      onSession(new DeepgramSession(ws, config, identity, this.options, this.counters, this.metrics));
    });
  }
}
