import { redactUrl } from '../errors/redact.js';
import { TranscriptionError } from '../errors/transcription-error.js';
import type {
  SocketDriver,
  SocketFactory,
  SocketHandlers,
  SocketOptions,
  WireMessage,
} from './socket-driver.js';

/** A send counts as done once the browser's buffer is down to this. */
const LOW_WATER_BYTES = 64 * 1024;
const POLL_MS = 10;

/**
 * The socket driver on the standard WebSocket of browsers (and of Node 22+,
 * Deno, Bun). Browsers have no send callback, so "sent" is read off
 * `bufferedAmount` falling under a low watermark; nor can they set headers.
 */
export const browserSocketFactory: SocketFactory = (
  url: string,
  options: SocketOptions,
  handlers: SocketHandlers,
): SocketDriver => {
  const Impl = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (Impl === undefined) {
    throw new TranscriptionError('this environment has no WebSocket; pass a socket factory in the options', {
      kind: 'network',
      retryable: false,
    });
  }
  let reporting = true;
  let opened = false;
  const shown = options.shownUrl ?? redactUrl(url);
  const socket = new Impl(url, options.protocols ? [...options.protocols] : undefined);
  socket.binaryType = 'arraybuffer';
  const waiting: Array<() => void> = [];
  let poll: ReturnType<typeof setTimeout> | undefined;
  const connectTimer = setTimeout(() => {
    if (opened) return;
    stop();
    handlers.error(
      new TranscriptionError(
        `could not connect to ${shown}: no handshake within ${options.connectTimeoutMs} ms`,
        {
          kind: 'timeout',
          retryable: true,
        },
      ),
    );
    socket.close();
  }, options.connectTimeoutMs);

  const stop = (): void => {
    reporting = false;
    clearTimeout(connectTimer);
    if (poll !== undefined) clearTimeout(poll);
    poll = undefined;
    waiting.length = 0;
  };
  const drain = (): void => {
    poll = undefined;
    if (socket.bufferedAmount <= LOW_WATER_BYTES) {
      for (const done of waiting.splice(0)) done();
    } else if (waiting.length > 0) poll = setTimeout(drain, POLL_MS);
  };

  socket.onopen = () => {
    opened = true;
    clearTimeout(connectTimer);
    if (reporting) handlers.open();
  };
  socket.onmessage = (event: MessageEvent) => {
    if (!reporting) return;
    const data = event.data as unknown;
    handlers.message(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
  };
  socket.onerror = () => {
    // Browsers say nothing useful here; the close event that follows has the code.
  };
  socket.onclose = (event: CloseEvent) => {
    if (!reporting) return;
    stop();
    if (!opened) {
      // Browsers hide why a handshake failed (refused, 401, bad TLS alike): 1006.
      handlers.error(
        new TranscriptionError(
          `could not connect to ${shown} (the browser gives no reason; close code ${event.code})`,
          {
            kind: 'network',
            retryable: true,
            closeCode: event.code,
          },
        ),
      );
    } else handlers.close(event.code, event.reason);
  };

  return {
    send(data: WireMessage, onSent?: () => void) {
      socket.send(data as string | ArrayBufferView<ArrayBuffer>);
      if (onSent === undefined) return;
      waiting.push(onSent);
      if (poll === undefined) poll = setTimeout(drain, 0);
    },
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    close(code: number, reason?: string) {
      socket.close(code, reason);
    },
    terminate() {
      stop();
      socket.close();
    },
  };
};
