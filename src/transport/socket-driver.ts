import type { SchedulerLike } from 'rxjs';
import type { TranscriptionError } from '../errors/transcription-error.js';
import type { RefusalClass } from '../protocols/protocol.js';

/** A message on the wire: text, or binary bytes. */
export type WireMessage = string | Uint8Array;

/** What a socket driver reports. Exactly one of `close` or `error` ends it. */
export interface SocketHandlers {
  open(): void;
  message(data: WireMessage): void;
  /** The connection closed with a close frame (or 1006 when it dropped). */
  close(code: number, reason: string): void;
  /** The connection could not be made, or failed without a close code. */
  error(error: TranscriptionError): void;
}

/** Options for opening a socket. */
export interface SocketOptions {
  readonly protocols?: readonly string[];
  /** HTTP headers of the handshake (Node only: browsers cannot set them). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Give up on a handshake that takes longer than this. */
  readonly connectTimeoutMs: number;
  /** After sending a close frame, drop the connection if the peer has not answered within this. */
  readonly closeTimeoutMs: number;
  /**
   * Heartbeat, where the platform has one (Node: WebSocket ping): when nothing
   * has arrived for `intervalMs`, ping; when nothing, not even the pong, has
   * arrived for `timeoutMs`, the connection is dead and fails as a timeout.
   */
  readonly heartbeat?: { readonly intervalMs: number; readonly timeoutMs: number };
  /** The clock and timers of the heartbeat (the session's scheduler); the wall clock without one. */
  readonly scheduler?: SchedulerLike;
  /**
   * The URL as errors may show it (redacted with the caller's safe query
   * parameters); without it, every query value is hidden.
   */
  readonly shownUrl?: string;
  /**
   * Reads a refused handshake (its status, and the start of its body where the
   * platform gives it: Node), for a protocol whose server explains refusals.
   */
  readonly refusal?: (status: number, body: string | undefined) => RefusalClass | undefined;
}

/** One open (or opening) WebSocket, as the transport drives it. */
export interface SocketDriver {
  /**
   * Sends a message; `onSent` is called once it has left this process (or the browser's buffer).
   * Binary `data` is only lent for the call: the session reuses its memory for later frames, so a
   * driver that keeps the bytes past `send` (a queue of its own) must copy them. The Node
   * driver masks them into a buffer of its own; the browser's WebSocket copies on send.
   */
  send(data: WireMessage, onSent?: () => void): void;
  /** Bytes queued and not yet sent. */
  readonly bufferedAmount: number;
  /** Starts the closing handshake. */
  close(code: number, reason?: string): void;
  /** Drops the connection at once, with no handshake, and stops all reporting. */
  terminate(): void;
  /**
   * Optional: runs `sends` so that the messages it sends leave in one write
   * where the platform allows it (the Node driver gathers the binary frames
   * and writes them together at the end).
   */
  batch?(sends: () => void): void;
}

/** Opens a socket to `url`, reporting to `handlers`. */
export type SocketFactory = (url: string, options: SocketOptions, handlers: SocketHandlers) => SocketDriver;
