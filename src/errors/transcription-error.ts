/** What went wrong, in the terms a retry policy needs. */
export type TranscriptionErrorKind =
  | 'network'
  | 'server'
  | 'auth'
  | 'protocol'
  | 'rate-limit'
  | 'timeout'
  | 'bad-audio'
  | 'overflow'
  | 'breaker-open';

/** Options of {@link TranscriptionError}. */
export interface TranscriptionErrorOptions {
  readonly kind: TranscriptionErrorKind;
  /** Whether trying again (later, on a new connection) may succeed. */
  readonly retryable: boolean;
  /** The WebSocket close code, where the server closed the connection. */
  readonly closeCode?: number;
  /** The close reason the server gave, if any. */
  readonly closeReason?: string;
  /** The HTTP status of a refused WebSocket handshake. */
  readonly httpStatus?: number;
  /** How long the server asked the client to wait before trying again (Retry-After on 429/503), in ms. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

const BRAND = Symbol.for('rxjs-transcribe.TranscriptionError');

/**
 * The one error type of this library. Retry decides from `retryable` and
 * `kind`, never from the message; the message is for people, and says what
 * happened and, where it can, what to do.
 */
export class TranscriptionError extends Error {
  override readonly name = 'TranscriptionError';
  readonly kind: TranscriptionErrorKind;
  readonly retryable: boolean;
  readonly closeCode: number | undefined;
  readonly closeReason: string | undefined;
  readonly httpStatus: number | undefined;
  /** How long the server asked the client to wait before trying again (Retry-After on 429/503), in ms. */
  readonly retryAfterMs: number | undefined;
  readonly [BRAND] = true;

  constructor(message: string, options: TranscriptionErrorOptions) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.kind = options.kind;
    this.retryable = options.retryable;
    this.closeCode = options.closeCode;
    this.closeReason = options.closeReason;
    this.httpStatus = options.httpStatus;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** True for a {@link TranscriptionError}, even one from another copy of this library. */
export function isTranscriptionError(value: unknown): value is TranscriptionError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** A bad-audio error: the input cannot be turned into the audio the server needs. Never retryable. */
export function badAudio(message: string, cause?: unknown): TranscriptionError {
  return new TranscriptionError(message, { kind: 'bad-audio', retryable: false, cause });
}

/**
 * `error` told in other words: the same kind, `retryable`, close code, HTTP
 * status and `retryAfterMs`, with `message`, a close reason (its own unless
 * given) and a cause (none unless given).
 */
export function rephrased(
  error: TranscriptionError,
  message: string,
  {
    closeReason = error.closeReason,
    cause,
  }: { readonly closeReason?: string; readonly cause?: unknown } = {},
): TranscriptionError {
  return new TranscriptionError(message, {
    kind: error.kind,
    retryable: error.retryable,
    ...(error.closeCode !== undefined ? { closeCode: error.closeCode } : {}),
    ...(closeReason !== undefined ? { closeReason } : {}),
    ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
}
