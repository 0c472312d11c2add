import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { Admission, type AdmissionLimits } from './admission.js';
import { DEFAULT_BURST_MS } from './assemblyai/audio-rules.js';
import { AssemblyAIEndpoint } from './assemblyai/endpoint.js';
import { CloseCode, closeReason } from './client-message.js';
import { KeyRing } from './deepgram/auth.js';
import { DeepgramEndpoint } from './deepgram/endpoint.js';
import type { Engine } from './engines/engine.js';
import { pocketsphinxEngine } from './engines/pocketsphinx.js';
import { syntheticEngine } from './engines/synthetic.js';
import { writeHttpRefusal } from './http-refusal.js';
import { openaiSessionLimit, RealtimeEndpoint } from './openai/endpoint.js';
import { type ProtocolEndpoint, pathOf, type ServerConnection } from './protocol-endpoint.js';
import { ServerMetrics } from './server-metrics.js';
import { ServerSession, type SessionCounters } from './server-session.js';
import { type SessionLifetimeLimits, SessionLimits } from './session-limits.js';
import { VOSK_AUTH_REFUSAL, voskCredential } from './vosk-auth.js';

/** The engines the server can name; an `Engine` object may be passed instead. */
export type EngineName = 'pocketsphinx' | 'synthetic';

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** TCP port; 0 picks a free one. Default 2700, as the Vosk server. */
  readonly port?: number;
  /** Address to listen on. Default `127.0.0.1` (loopback only); `0.0.0.0` to serve the network. */
  readonly host?: string;
  /** Recogniser: `'pocketsphinx'` (default), `'synthetic'`, or an {@link Engine}. */
  readonly engine?: EngineName | Engine;
  /**
   * Consume audio no faster than real time (`true` = 1x) or a multiple of it
   * (`10` = 10x), reading nothing from the socket while waiting, so that a
   * fast client meets TCP backpressure. Default: as fast as the engine goes.
   */
  readonly realtime?: boolean | number;
  /** Largest audio frame in bytes; larger frames close the session with 1009. Default 1 MiB. */
  readonly maxFrameBytes?: number;
  /**
   * Keys every connection must present, each protocol in its own way (Vosk:
   * `Authorization: Bearer KEY` or `?token=KEY`; Deepgram: `Authorization: Token KEY` or the
   * subprotocols `token, KEY`; AssemblyAI and OpenAI: theirs); others are refused with HTTP
   * 401. Default none: any credentials, or none, are taken. Keys are never logged.
   */
  readonly apiKeys?: readonly string[];
  /**
   * Serve TLS (`wss:` and `https:`) with this certificate chain and private
   * key, PEM-encoded. The AssemblyAI and OpenAI SDKs connect to `wss:` only.
   */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
  /**
   * Who may connect and how long they may stay, the same on every protocol:
   * sessions at once (in total and per client address; past them a client is
   * refused as "try again later": close 1013 for Vosk, the protocol's own
   * refusal elsewhere), browser origins (others get HTTP 403), session length
   * and idle time (closed with 1001 and a reason saying which), and how long
   * a client may take to send its handshake (`handshakeTimeoutMs`, default
   * 10 s; slower ones, slowloris among them, are cut off).
   */
  readonly limits?: AdmissionLimits & SessionLifetimeLimits & { readonly handshakeTimeoutMs?: number };
  /** Close a Deepgram connection with 1011 (NET-0001) after this long without audio or a text message. Default 10,000 ms, as Deepgram. */
  readonly deepgramIdleTimeoutMs?: number;
  /**
   * AssemblyAI's `/v3/ws`: how far audio may run ahead of real time before 3007
   * (`burstMs`, default 2,000), and how long a session lives before 3008
   * (`maxSessionMs`, default 3 h). Keys are `apiKeys`, sent raw in `Authorization`.
   */
  readonly assemblyai?: { readonly burstMs?: number; readonly maxSessionMs?: number };
  /** OpenAI's `/v1/realtime`: how long a session lives before `session_expired` (`sessionLimitMs`, default 60 min). Keys are `apiKeys`, as `Bearer`. */
  readonly openai?: { readonly sessionLimitMs?: number };
}

/** What the server has done so far. */
export interface ServerStats extends SessionCounters {
  /** Sessions open now. */
  readonly sessions: number;
  /** Sessions opened since start. */
  readonly sessionsTotal: number;
}

/** A running reference server. */
export interface RunningServer {
  /** `ws://host:port` (`wss:` with TLS), to give to a client. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The engine's name. */
  readonly engine: string;
  /** `http://host:port/metrics` (`https:` with TLS): the server's metrics in Prometheus text format. */
  readonly metricsUrl: string;
  /** Counters of sessions and audio. */
  stats(): ServerStats;
  /** Closes every session (1001), ends every engine process and stops listening. */
  close(): Promise<void>;
  /**
   * A graceful shutdown: takes no new sessions (refused as "try again later";
   * `/healthz` answers 503 `draining`), waits up to `graceMs` (default 10 s)
   * for open sessions to end by themselves, then closes the rest with 1001.
   */
  drain(graceMs?: number): Promise<void>;
}

const DEFAULT_PORT = 2700;
const DEFAULT_MAX_FRAME = 1024 * 1024;
/** Frames above this many times the limit are cut off by ws itself (1009, without a reason). */
const HARD_LIMIT_FACTOR = 4;
/** How long sessions get to finish their closing handshake on shutdown. */
const SHUTDOWN_GRACE_MS = 1000;
/** Deepgram closes a connection that sends nothing for 10 s (NET-0001). */
const DEFAULT_DEEPGRAM_IDLE_MS = 10_000;
/** How long a client may take to send its whole handshake request. */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long a graceful shutdown waits for sessions to end by themselves. */
const DEFAULT_DRAIN_MS = 10_000;

function resolveEngine(engine: EngineName | Engine | undefined): Engine {
  if (engine === undefined || engine === 'pocketsphinx') return pocketsphinxEngine();
  if (engine === 'synthetic') return syntheticEngine;
  if (typeof engine === 'string') {
    throw new TypeError(`unknown engine "${engine as string}"; use "pocketsphinx" or "synthetic"`);
  }
  return engine;
}

function realtimeFactor(realtime: boolean | number | undefined): number | undefined {
  if (realtime === undefined || realtime === false) return undefined;
  if (realtime === true) return 1;
  if (!(realtime > 0) || !Number.isFinite(realtime)) {
    throw new RangeError(`realtime must be true or a positive factor, got ${realtime}`);
  }
  return realtime;
}

function onHttpRequest(
  engine: string,
  metrics: ServerMetrics,
  endpoints: readonly ProtocolEndpoint[],
  admission: Admission,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const path = pathOf(request.url);
  for (const endpoint of endpoints) {
    if (endpoint.handleRequest?.(path, request, response)) return;
  }
  if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
    const status = admission.draining ? 'draining' : 'ok';
    response
      .writeHead(admission.draining ? 503 : 200, { 'content-type': 'application/json' })
      .end(`${JSON.stringify({ status, engine, sessions: admission.sessions })}\n`);
    return;
  }
  if (request.url === '/metrics' && (request.method === 'GET' || request.method === 'HEAD')) {
    metrics.render().then(
      ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
    );
    return;
  }
  response.writeHead(request.url === '/' ? 426 : 404, { 'content-type': 'text/plain; charset=utf-8' });
  const others = endpoints.map((endpoint) => `, ${endpoint.description}`).join('');
  response.end(
    `rxjs-transcribe reference server (${engine} engine): connect with a WebSocket and speak the Vosk protocol (any other path)${others}\n`,
  );
}

/**
 * Starts the reference speech-to-text server: the Vosk server protocol over a
 * WebSocket, with a real recogniser (pocketsphinx) or the synthetic engine.
 *
 * @example
 * const server = await startServer({ port: 0, engine: 'synthetic' });
 * // ... connect to server.url ...
 * await server.close();
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const engine = resolveEngine(options.engine);
  // An engine the server made (its process pool) closes with it; one passed in is the caller's.
  const ownsEngine = typeof options.engine !== 'object';
  const realtime = realtimeFactor(options.realtime);
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME;
  if (!(maxFrameBytes > 0) || !Number.isInteger(maxFrameBytes)) {
    throw new RangeError(`maxFrameBytes must be a positive integer, got ${maxFrameBytes}`);
  }
  const host = options.host ?? '127.0.0.1';
  const sessionOptions = {
    engine,
    realtime,
    maxFrameBytes,
    // Queue no more than a few frames before reading stops.
    highWaterBytes: 64 * 1024,
  };
  const counters: SessionCounters = {
    audioBytes: 0,
    peakQueuedBytes: 0,
    closedWithError: {},
    closeCodes: {},
  };
  const deepgramIdleTimeoutMs = options.deepgramIdleTimeoutMs ?? DEFAULT_DEEPGRAM_IDLE_MS;
  if (!(deepgramIdleTimeoutMs > 0) || !Number.isFinite(deepgramIdleTimeoutMs)) {
    throw new RangeError(`deepgramIdleTimeoutMs must be a positive number, got ${deepgramIdleTimeoutMs}`);
  }
  const sessions = new Set<ServerConnection>();
  let sessionsTotal = 0;

  const metrics = new ServerMetrics(engine.name);
  const apiKeys = options.apiKeys ?? [];
  // Each provider's emulation owns its paths; Vosk takes the rest.
  const endpoints: readonly ProtocolEndpoint[] = [
    new DeepgramEndpoint(
      { ...sessionOptions, idleTimeoutMs: deepgramIdleTimeoutMs, apiKeys },
      counters,
      metrics,
    ),
    new AssemblyAIEndpoint(
      {
        ...sessionOptions,
        burstMs: options.assemblyai?.burstMs ?? DEFAULT_BURST_MS,
        apiKeys,
        ...(options.assemblyai?.maxSessionMs !== undefined
          ? { maxSessionMs: options.assemblyai.maxSessionMs }
          : {}),
      },
      counters,
      metrics,
    ),
    new RealtimeEndpoint(
      { ...sessionOptions, apiKeys, sessionLimitMs: openaiSessionLimit(options.openai) },
      counters,
      metrics,
    ),
  ];
  const admission = new Admission(options.limits);
  const lifetimes = new SessionLimits(options.limits ?? {}, sessions);
  const voskKeys = new KeyRing(apiKeys);
  const onRequest = (request: IncomingMessage, response: ServerResponse): void =>
    onHttpRequest(engine.name, metrics, endpoints, admission, request, response);
  const handshakeTimeoutMs = options.limits?.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!(handshakeTimeoutMs > 0) || !Number.isFinite(handshakeTimeoutMs)) {
    throw new RangeError(`handshakeTimeoutMs must be a positive number of ms, got ${handshakeTimeoutMs}`);
  }
  // Node checks these timeouts every connectionsCheckingInterval; the upgraded sockets leave the HTTP parser and are not timed.
  const httpOptions = {
    headersTimeout: handshakeTimeoutMs,
    requestTimeout: handshakeTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, handshakeTimeoutMs / 4)),
  };
  const http: Server =
    options.tls === undefined
      ? createServer(httpOptions, onRequest)
      : createTlsServer(
          {
            ...httpOptions,
            handshakeTimeout: handshakeTimeoutMs,
            cert: options.tls.cert,
            key: options.tls.key,
          },
          onRequest,
        );
  const endpointOf = (request: IncomingMessage): ProtocolEndpoint | undefined => {
    const path = pathOf(request.url);
    return endpoints.find((endpoint) => endpoint.ownsUpgrade(path));
  };
  const track = (session: ServerConnection): void => {
    sessions.add(session);
    sessionsTotal += 1;
    void session.finished.then(() => sessions.delete(session));
  };
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxFrameBytes * HARD_LIMIT_FACTOR,
    // Without an endpoint's own choice, the first offered, as `ws` does without this hook.
    handleProtocols: (protocols, request) =>
      endpointOf(request)?.selectProtocol?.(protocols, request) ?? protocols.values().next().value ?? false,
  });
  wss.on('headers', (headers, request) => endpointOf(request)?.addHeaders?.(headers, request));
  // The path decides the protocol; the server's own limits come first.
  http.on('upgrade', (request: IncomingMessage, socket, head: Buffer) => {
    const endpoint = endpointOf(request);
    const refusal = admission.check(request);
    if (refusal?.kind === 'origin') {
      writeHttpRefusal(socket, 403, `${refusal.reason}\n`);
      return;
    }
    if (refusal !== undefined) {
      if (endpoint?.refuseCapacity !== undefined)
        endpoint.refuseCapacity(wss, request, socket, head, refusal.reason);
      else
        wss.handleUpgrade(request, socket, head, (ws) =>
          ws.close(CloseCode.tryAgainLater, closeReason(refusal.reason)),
        );
      return;
    }
    // Counted from the upgrade, so that upgrades at once cannot all pass the limit.
    const admitted = (session: ServerConnection): void => {
      const leave = admission.enter(request);
      void session.finished.then(leave);
      track(session);
    };
    if (endpoint !== undefined) endpoint.upgrade(wss, request, socket, head, admitted);
    else if (!voskKeys.matches(voskCredential(request))) writeHttpRefusal(socket, 401, VOSK_AUTH_REFUSAL);
    else
      wss.handleUpgrade(request, socket, head, (ws) =>
        admitted(new ServerSession(ws, sessionOptions, counters, metrics)),
      );
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? DEFAULT_PORT, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const secure = options.tls !== undefined;

  let closing: Promise<void> | undefined;
  const running: RunningServer = {
    url: `${secure ? 'wss' : 'ws'}://${urlHost}:${port}`,
    port,
    host,
    engine: engine.name,
    metricsUrl: `${secure ? 'https' : 'http'}://${urlHost}:${port}/metrics`,
    stats: () => ({
      ...counters,
      closedWithError: { ...counters.closedWithError },
      closeCodes: { ...counters.closeCodes },
      sessions: sessions.size,
      sessionsTotal,
    }),
    async drain(graceMs = DEFAULT_DRAIN_MS) {
      if (!(graceMs >= 0) || !Number.isFinite(graceMs))
        throw new RangeError(`graceMs must be 0 or more, got ${graceMs}`);
      admission.draining = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...sessions].map((session) => session.finished)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
      await running.close();
    },
    close() {
      closing ??= (async () => {
        admission.draining = true;
        lifetimes.stop();
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        const ended = [...sessions].map((session) =>
          session.shutdown(CloseCode.goingAway, 'server shutting down'),
        );
        const grace = setTimeout(() => {
          for (const client of wss.clients) client.terminate();
        }, SHUTDOWN_GRACE_MS);
        await Promise.all(ended);
        if (ownsEngine) await engine.close?.();
        // Sessions are released; now wait for their sockets, forcing the slow ones.
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        for (const client of wss.clients) client.terminate();
        http.closeAllConnections();
        await httpClosed;
        clearTimeout(grace);
      })();
      return closing;
    },
  };
  return running;
}
