import { Observable, type SchedulerLike } from 'rxjs';
import { type CloseCodeClass, closeError } from '../errors/close-codes.js';
import { redactUrl, scrub, secretsOf } from '../errors/redact.js';
import { TranscriptionError } from '../errors/transcription-error.js';
import { defaultSocketFactory } from './default-socket.js';
import type { SocketDriver, SocketFactory, SocketOptions, WireMessage } from './socket-driver.js';

/** Options of {@link connect}. */
export interface ConnectOptions {
  readonly url: string;
  readonly protocols?: readonly string[];
  /** Handshake headers (Node only). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** How long a close handshake may take before the connection is dropped. Default 3 s. */
  readonly closeTimeoutMs?: number;
  /** How sockets are made; by default `ws` in Node and the standard WebSocket in browsers. */
  readonly socketFactory?: SocketFactory;
  /** Ping when idle and fail as a timeout when nothing arrives (Node only; see SocketOptions). */
  readonly heartbeat?: { readonly intervalMs: number; readonly timeoutMs: number };
  /** Overrides the close-code table: return a class for a code, or undefined to keep the table's. */
  readonly classifyClose?: (code: number, reason: string) => CloseCodeClass | undefined;
  /** The clock and timers of the heartbeat; the wall clock by default. */
  readonly scheduler?: SchedulerLike;
  /** Reads a refused handshake's status and body (see SocketOptions). */
  readonly refusal?: SocketOptions['refusal'];
  /** The URL as errors may show it (see SocketOptions). */
  readonly shownUrl?: string;
}

/** An open connection, handed out by the `open` event. */
export interface Connection {
  /** Sends a message; `onSent` is called when it has left (the flow-control signal). */
  send(data: WireMessage, onSent?: () => void): void;
  /** Bytes queued in the socket and not yet sent. */
  readonly bufferedAmount: number;
  /** Closes with a code (1000 by default). */
  close(code?: number, reason?: string): void;
  /** Runs `sends` so that what it sends leaves in as few writes as the platform allows. */
  batch(sends: () => void): void;
  /** Whether `batch` gathers writes (the Node driver) or only runs `sends` (the browser's WebSocket). */
  readonly batches: boolean;
}

/** What a connection Observable emits. */
export type TransportEvent =
  | { readonly type: 'open'; readonly connection: Connection }
  | { readonly type: 'message'; readonly data: WireMessage };

/**
 * The `Connection` handed out at `open`: a class, so that its getter and methods
 * live on one prototype. As object literals, every session's connection had
 * getters of its own, and the per-frame `bufferedAmount` read went megamorphic
 * with thousands of sessions.
 */
class DriverConnection implements Connection {
  driver: SocketDriver | undefined;

  send(data: WireMessage, onSent?: () => void): void {
    this.driver!.send(data, onSent);
  }

  get bufferedAmount(): number {
    return this.driver!.bufferedAmount;
  }

  close(code = 1000, reason = ''): void {
    this.driver!.close(code, reason);
  }

  get batches(): boolean {
    return this.driver!.batch !== undefined;
  }

  batch(sends: () => void): void {
    const driver = this.driver!;
    if (driver.batch !== undefined) driver.batch(sends);
    else sends();
  }
}

/** What {@link openConnection} reports, each at most once but `message`. */
export interface ConnectionEvents {
  open(connection: Connection): void;
  message(data: WireMessage): void;
  /** The server closed with 1000. */
  end(): void;
  /** Anything else: a refused or timed-out handshake, another close code, a dead socket. */
  error(error: TranscriptionError): void;
}

/**
 * Opens a WebSocket and reports to `events` directly, with no Observable in
 * between: a session's replies arrive here by the thousand per second, and the
 * event object and subscriber chain of each were garbage. Returns the function
 * that drops the connection (closing it with 1000 if it is open); after it, or
 * after `end` or `error`, nothing more is reported.
 */
export function openConnection(options: ConnectOptions, events: ConnectionEvents): () => void {
  const factory = options.socketFactory ?? defaultSocketFactory;
  let open = false;
  let done = false;
  const connection = new DriverConnection();
  try {
    connection.driver = factory(
      options.url,
      {
        ...(options.protocols !== undefined ? { protocols: options.protocols } : {}),
        ...(options.headers !== undefined ? { headers: options.headers } : {}),
        connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
        closeTimeoutMs: options.closeTimeoutMs ?? 3_000,
        ...(options.heartbeat !== undefined ? { heartbeat: options.heartbeat } : {}),
        ...(options.scheduler !== undefined ? { scheduler: options.scheduler } : {}),
        ...(options.refusal !== undefined ? { refusal: options.refusal } : {}),
        ...(options.shownUrl !== undefined ? { shownUrl: options.shownUrl } : {}),
      },
      {
        open() {
          if (done) return;
          open = true;
          events.open(connection);
        },
        message(data) {
          if (!done) events.message(data);
        },
        close(code, reason) {
          if (done) return;
          done = true;
          if (code === 1000) events.end();
          else events.error(closeError(code, reason, options.classifyClose?.(code, reason)));
        },
        error(error) {
          if (done) return;
          done = true;
          events.error(error);
        },
      },
    );
  } catch (error) {
    // A bad URL, say: the message may quote it, so it is scrubbed of credentials.
    const message = scrub(
      (error as Error)?.message ?? String(error),
      secretsOf(options.url, options.headers),
    );
    done = true;
    events.error(
      new TranscriptionError(`could not open a WebSocket to ${redactUrl(options.url)}: ${message}`, {
        kind: 'network',
        retryable: false,
      }),
    );
    return () => {};
  }
  return () => {
    if (done) return;
    done = true;
    if (open) connection.driver!.close(1000, '');
    else connection.driver!.terminate();
  };
}

/**
 * A WebSocket connection as an Observable: `open` once, then each message.
 * It completes when the server closes with 1000, and errors with a
 * `TranscriptionError` for everything else: a refused or timed-out handshake
 * (with the HTTP status where there is one), or any other close code (kept,
 * with the reason, on the error). Nothing connects before subscription;
 * unsubscribing closes with 1000.
 */
export function connect(options: ConnectOptions): Observable<TransportEvent> {
  return new Observable<TransportEvent>((subscriber) =>
    openConnection(options, {
      open: (connection) => subscriber.next({ type: 'open', connection }),
      message: (data) => subscriber.next({ type: 'message', data }),
      end: () => subscriber.complete(),
      error: (error) => subscriber.error(error),
    }),
  );
}
