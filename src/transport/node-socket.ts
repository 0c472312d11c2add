import WebSocket from 'ws';
import { handshakeError } from '../errors/close-codes.js';
import { redactUrl } from '../errors/redact.js';
import { TranscriptionError } from '../errors/transcription-error.js';
import { maskGenerator } from './frame-mask.js';
import { type ByteSocket, MaskedFrameWriter } from './masked-frame-writer.js';
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

/**
 * What the transport calls on a `ws` socket: a class, so that every session's
 * driver shares one prototype (object literals with getters gave each session
 * a shape of its own, and the per-frame `bufferedAmount` read went megamorphic).
 */
class NodeSocketDriver implements SocketDriver {
  /** Binary frames are masked and written here, from a buffer reused across frames (decision 0012). */
  private readonly writer = new MaskedFrameWriter(generateMask);
  private batching = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly closeTimeoutMs: number,
    private readonly stopReporting: () => void,
  ) {}

  /** The open TCP (or TLS) socket under `ws`, if the connection is open. */
  private openSocket(): ByteSocket | undefined {
    if (this.socket.readyState !== WebSocket.OPEN) return undefined;
    return (this.socket as unknown as { _socket?: ByteSocket })._socket;
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

/** The socket driver for Node.js, on the `ws` package: send callbacks, handshake status, headers. */
export const nodeSocketFactory: SocketFactory = (
  url: string,
  options: SocketOptions,
  handlers: SocketHandlers,
): SocketDriver => {
  let reporting = true;
  let opened = false;
  const shown = redactUrl(url);
  const socket = new WebSocket(url, options.protocols ? [...options.protocols] : undefined, {
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

  let heard = Date.now();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const stopHeartbeat = (): void => {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
  };
  socket.on('open', () => {
    opened = true;
    heard = Date.now();
    const beat = options.heartbeat;
    if (beat !== undefined) {
      heartbeat = setInterval(
        () => {
          const silent = Date.now() - heard;
          if (silent >= beat.timeoutMs) {
            stopHeartbeat();
            report(
              'error',
              new TranscriptionError(
                `no answer to ping for ${beat.timeoutMs} ms from ${shown}: the connection is dead`,
                {
                  kind: 'timeout',
                  retryable: true,
                },
              ),
            );
            socket.terminate();
          } else if (silent >= beat.intervalMs) socket.ping();
        },
        Math.max(10, Math.min(beat.intervalMs, beat.timeoutMs) / 2),
      );
      heartbeat.unref?.();
    }
    report('open');
  });
  socket.on('pong', () => {
    heard = Date.now();
  });
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    heard = Date.now();
    // Called directly, not through report(): its rest arguments were an array per message.
    if (!reporting) return;
    handlers.message(
      isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString('utf8'),
    );
  });
  socket.on('unexpected-response', (request, response) => {
    report('error', handshakeError(response.statusCode ?? 0, shown));
    request.destroy();
    socket.terminate();
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

  return new NodeSocketDriver(socket, options.closeTimeoutMs, () => {
    reporting = false;
    stopHeartbeat();
  });
};
