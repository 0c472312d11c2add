import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { handshakeError } from '../errors/close-codes.js';
import { redactUrl } from '../errors/redact.js';
import { parseRetryAfter } from '../errors/retry-after.js';
import { TranscriptionError } from '../errors/transcription-error.js';
import { packageRequire } from '../server/package-root.js';
import { repeatEvery } from '../timers/repeat-every.js';
import { maskGenerator } from './frame-mask.js';
import { type ByteSocket, MaskedFrameWriter } from './masked-frame-writer.js';
import { type MaskFunction, nativeMask } from './native-mask.js';
import type {
  SocketDriver,
  SocketFactory,
  SocketHandlers,
  SocketOptions,
  WireMessage,
} from './socket-driver.js';

/** Connection failures retryable by nature: the server may come back. */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

function networkError(error: Error & { code?: string }, url: string): TranscriptionError {
  const code = error.code ?? '';
  const retryable = RETRYABLE_CODES.has(code) || code === '';
  const hint =
    code === 'ECONNREFUSED' ? ' (is the server running?)' : code === 'ENOTFOUND' ? ' (unknown host)' : '';
  return new TranscriptionError(`could not connect to ${url}: ${error.message}${hint}`, {
    kind: 'network',
    retryable,
    cause: error,
  });
}

const generateMask = maskGenerator();
let lookedForMask = false;
let fastMask: MaskFunction | undefined;

/** The addon's mask if it loads (`nativeMask`), looked up once per process, at the first connection. */
function processMask(): MaskFunction | undefined {
  if (!lookedForMask) {
    lookedForMask = true;
    fastMask = nativeMask();
  }
  return fastMask;
}

/** The code of the warning for a `ws` without the private socket the driver writes to. */
export const WS_PRIVATE_WARNING = 'RXJS_TRANSCRIBE_WS_PRIVATE';

/**
 * The byte socket under a `ws` WebSocket that binary frames can be written to
 * directly (decision 0012), or why not. It must be `_socket`, a socket with
 * `write` and a numeric `writableLength`; `ws`'s own frames (text, pings,
 * close) must go to that same socket, and none of them compressed, so that
 * they and the driver's frames never interleave within a frame. Read once, at
 * open: `ws` sets `_socket` before it reports open and never changes it.
 */
function privateSocketOf(socket: WebSocket): ByteSocket | string {
  const inner = socket as unknown as { _socket?: unknown; _sender?: { _socket?: unknown } | null };
  const raw = inner._socket as { write?: unknown; writableLength?: unknown } | null | undefined;
  if (typeof raw !== 'object' || raw === null) return 'it has no _socket';
  if (typeof raw.write !== 'function' || typeof raw.writableLength !== 'number')
    return 'its _socket is not a byte socket with write() and a numeric writableLength';
  if (inner._sender?._socket !== raw) return 'its sender does not write to its _socket';
  if (socket.extensions !== '') return `it negotiated extensions (${socket.extensions})`;
  return raw as ByteSocket;
}

/** The version of the `ws` this package resolves, if it can be read. */
function installedWsVersion(): string | undefined {
  try {
    return (packageRequire()('ws/package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
}

let warnedPrivate = false;

/** Says, once per process, that binary frames go through `ws.send` (correct, but copied per frame). */
function warnNoPrivateSocket(why: string, wsVersion: () => string | undefined): void {
  if (warnedPrivate) return;
  warnedPrivate = true;
  const version = wsVersion();
  process.emitWarning(
    `rxjs-transcribe: cannot write audio frames to the socket under ws${version !== undefined ? ` ${version}` : ''} ` +
      `(${why}), so audio goes through ws.send instead: correct, but slower (ws copies every frame to mask ` +
      'it). This library is tested with the ws versions its package.json allows.',
    { code: WS_PRIVATE_WARNING, detail: 'See docs/decisions/0012-own-frame-writer.md.' },
  );
}

/**
 * What the transport calls on a `ws` socket: a class, so that every session's
 * driver shares one prototype (object literals with getters gave each session
 * a shape of its own, and the per-frame `bufferedAmount` read went megamorphic).
 */
class NodeSocketDriver implements SocketDriver {
  /** Binary frames are masked and written here, from a buffer reused across frames (decision 0012). */
  private readonly writer = new MaskedFrameWriter(generateMask, processMask());
  private batching = false;
  /**
   * The socket under `ws` that binary frames are written to, found at open; undefined
   * before, and for a `ws` not in the shape relied on (then they go through `ws.send`).
   */
  private raw: ByteSocket | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly closeTimeoutMs: number,
    private readonly stopReporting: () => void,
  ) {}

  /** At open: binary frames are written to `raw` from now on. */
  writeTo(raw: ByteSocket): void {
    this.raw = raw;
  }

  /** The open TCP (or TLS) socket under `ws`, if the connection is open and frames are written to it. */
  private openSocket(): ByteSocket | undefined {
    if (this.socket.readyState !== WebSocket.OPEN) return undefined;
    return this.raw;
  }

  send(data: WireMessage, onSent?: () => void): void {
    const raw = this.openSocket();
    if (typeof data !== 'string' && raw !== undefined) {
      this.writer.append(data, onSent);
      if (!this.batching) this.writer.flush(raw);
      return;
    }
    // Text, and anything sent when not open (ws reports that), goes through ws: after the
    // frames appended before it, so that the order on the wire is the order of the calls.
    if (raw !== undefined) this.writer.flush(raw);
    this.socket.send(data, onSent ? () => onSent() : undefined);
  }

  batch(sends: () => void): void {
    // The frames of a pass leave in one write (one system call), from the writer's buffer.
    if (this.batching) {
      sends();
      return;
    }
    this.batching = true;
    try {
      sends();
    } finally {
      this.batching = false;
      const raw = this.openSocket();
      if (raw !== undefined) this.writer.flush(raw);
      else this.writer.clear();
    }
  }

  get bufferedAmount(): number {
    // What the socket holds, and the frames of the pass not yet written.
    return this.socket.bufferedAmount + this.writer.pending;
  }

  close(code: number, reason?: string): void {
    const socket = this.socket;
    const raw = this.openSocket();
    if (raw !== undefined) this.writer.flush(raw);
    if (socket.readyState === WebSocket.CONNECTING) {
      socket.terminate();
      return;
    }
    socket.close(code, reason);
    // ws waits 30 s for the peer's close frame; a server that is not reading
    // (paced, stalled) would hold the socket that long. Give it a few seconds.
    const timer = setTimeout(() => socket.terminate(), this.closeTimeoutMs);
    timer.unref?.();
    socket.once('close', () => clearTimeout(timer));
  }

  terminate(): void {
    this.writer.clear();
    this.stopReporting();
    this.socket.terminate();
  }
}

/**
 * The Node.js socket driver on `WebSocketClass` (`ws`'s, or one like it: the
 * tests run it on each `ws` version package.json allows). `wsVersion` names
 * that version in the warning for a `ws` whose socket cannot be written to.
 * Internal: not exported from the package.
 */
export function nodeSocketFactoryFor(
  WebSocketClass: typeof WebSocket,
  wsVersion: () => string | undefined = () => undefined,
): SocketFactory {
  return (url, options, handlers) => openNodeSocket(WebSocketClass, wsVersion, url, options, handlers);
}

/** How much of a refused handshake's body is read for the protocol to explain, and for how long at most. */
const REFUSAL_BODY_BYTES = 4096;
const REFUSAL_BODY_WAIT_MS = 1000;

/** Reads up to `limit` bytes of a response, giving up after `waitMs`; calls `done` once with the text. */
function readBodyStart(
  response: IncomingMessage,
  limit: number,
  waitMs: number,
  done: (body: string | undefined) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    response.off('data', onData);
    response.off('end', finish);
    response.off('error', finish);
    done(size > 0 ? Buffer.concat(chunks).subarray(0, limit).toString('utf8') : undefined);
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) finish();
  };
  const timer = setTimeout(finish, waitMs);
  timer.unref?.();
  response.on('data', onData);
  response.on('end', finish);
  response.on('error', finish);
}

/** The socket driver for Node.js, on the `ws` package: send callbacks, handshake status, headers. */
export const nodeSocketFactory: SocketFactory = nodeSocketFactoryFor(WebSocket, installedWsVersion);

function openNodeSocket(
  WebSocketClass: typeof WebSocket,
  wsVersion: () => string | undefined,
  url: string,
  options: SocketOptions,
  handlers: SocketHandlers,
): SocketDriver {
  let reporting = true;
  let opened = false;
  const shown = options.shownUrl ?? redactUrl(url);
  const socket = new WebSocketClass(url, options.protocols ? [...options.protocols] : undefined, {
    headers: options.headers ? { ...options.headers } : undefined,
    handshakeTimeout: options.connectTimeoutMs,
    perMessageDeflate: false,
    generateMask,
  });
  socket.binaryType = 'nodebuffer';
  const report = <K extends keyof SocketHandlers>(event: K, ...args: Parameters<SocketHandlers[K]>): void => {
    if (!reporting) return;
    if (event === 'close' || event === 'error') reporting = false;
    (handlers[event] as (...a: Parameters<SocketHandlers[K]>) => void)(...args);
  };

  // The session's clock when it has one (a test's virtual time), else the wall clock.
  const clock = options.scheduler;
  const now = clock !== undefined ? () => clock.now() : Date.now;
  let heard = now();
  let heartbeat: (() => void) | undefined;
  const stopHeartbeat = (): void => {
    heartbeat?.();
    heartbeat = undefined;
  };
  const driver = new NodeSocketDriver(socket, options.closeTimeoutMs, () => {
    reporting = false;
    stopHeartbeat();
  });
  socket.on('open', () => {
    opened = true;
    heard = now();
    // Decided once, here, so that a frame costs no check of its own.
    const raw = privateSocketOf(socket);
    if (typeof raw === 'string') warnNoPrivateSocket(raw, wsVersion);
    else driver.writeTo(raw);
    const beat = options.heartbeat;
    if (beat !== undefined) {
      const check = (): void => {
        const silent = now() - heard;
        if (silent >= beat.timeoutMs) {
          stopHeartbeat();
          report(
            'error',
            new TranscriptionError(
              `no answer to ping for ${beat.timeoutMs} ms from ${shown}: the connection is dead`,
              { kind: 'timeout', retryable: true },
            ),
          );
          socket.terminate();
        } else if (silent >= beat.intervalMs) socket.ping();
      };
      heartbeat = repeatEvery(clock, Math.max(10, Math.min(beat.intervalMs, beat.timeoutMs) / 2), check);
    }
    report('open');
  });
  socket.on('pong', () => {
    heard = now();
  });
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    heard = now();
    // Called directly, not through report(): its rest arguments were an array per message.
    if (!reporting) return;
    handlers.message(
      isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString('utf8'),
    );
  });
  socket.on('unexpected-response', (request, response) => {
    const status = response.statusCode ?? 0;
    // A server that sheds load may say when to come back: the session waits at least that long.
    const retryAfterMs =
      status === 429 || status === 503
        ? parseRetryAfter(response.headers['retry-after'], Date.now()) // an HTTP date is wall-clock time
        : undefined;
    const refuse = (body: string | undefined): void => {
      report('error', handshakeError(status, shown, retryAfterMs, options.refusal?.(status, body)));
      request.destroy();
      socket.terminate();
    };
    if (options.refusal === undefined) {
      refuse(undefined);
      return;
    }
    // The server may explain the refusal in the body (Deepgram does): read a little of it, briefly.
    readBodyStart(response, REFUSAL_BODY_BYTES, REFUSAL_BODY_WAIT_MS, refuse);
  });
  socket.on('error', (error: Error & { code?: string }) => {
    if (!opened) {
      const timeout = /timed out/i.test(error.message);
      report(
        'error',
        timeout
          ? new TranscriptionError(
              `could not connect to ${shown}: no handshake within ${options.connectTimeoutMs} ms`,
              {
                kind: 'timeout',
                retryable: true,
                cause: error,
              },
            )
          : networkError(error, shown),
      );
    }
    // After open, ws follows an error with 'close' (1006 or the code it sent), reported there.
  });
  socket.on('close', (code: number, reason: Buffer) => {
    stopHeartbeat();
    report('close', code, reason.toString('utf8'));
  });

  return driver;
}
