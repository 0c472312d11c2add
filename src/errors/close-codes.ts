import type { RefusalClass } from '../protocols/protocol.js';
import { TranscriptionError, type TranscriptionErrorKind } from './transcription-error.js';

/** How a WebSocket close code is classified. */
export interface CloseCodeClass {
  readonly kind: TranscriptionErrorKind;
  readonly retryable: boolean;
}

/**
 * The close codes of RFC 6455 and the IANA registry, classified. Normal
 * closure (1000) is not an error and is not in the table.
 */
export const CLOSE_CODE_CLASSES: Readonly<Record<number, CloseCodeClass>> = {
  1001: { kind: 'server', retryable: true }, // going away: a deploy, a restart
  1002: { kind: 'protocol', retryable: false }, // protocol error
  1003: { kind: 'protocol', retryable: false }, // unsupported data
  1005: { kind: 'network', retryable: true }, // no status received
  1006: { kind: 'network', retryable: true }, // abnormal closure: the connection dropped
  1007: { kind: 'protocol', retryable: false }, // invalid payload (a bad config, a rate not supported)
  1008: { kind: 'auth', retryable: false }, // policy violation, how most servers refuse credentials
  1009: { kind: 'protocol', retryable: false }, // message too big
  1010: { kind: 'protocol', retryable: false }, // mandatory extension
  1011: { kind: 'server', retryable: true }, // internal error
  1012: { kind: 'server', retryable: true }, // service restart
  1013: { kind: 'rate-limit', retryable: true }, // try again later
  1014: { kind: 'server', retryable: true }, // bad gateway
  1015: { kind: 'network', retryable: false }, // TLS handshake failure
};

/** Classifies a close code: the table, then the ranges (4000-4999 private: not retryable by default). */
export function classifyCloseCode(code: number): CloseCodeClass {
  const known = CLOSE_CODE_CLASSES[code];
  if (known !== undefined) return known;
  if (code >= 4000 && code <= 4999) return { kind: 'server', retryable: false };
  return { kind: 'server', retryable: false };
}

/** The error for a connection the server closed with `code` (not 1000). */
export function closeError(code: number, reason: string, override?: CloseCodeClass): TranscriptionError {
  const { kind, retryable } = override ?? classifyCloseCode(code);
  const detail =
    reason !== '' ? `: ${reason}` : code === 1006 ? ': the connection dropped without a close frame' : '';
  return new TranscriptionError(`server closed with ${code}${detail}`, {
    kind,
    retryable,
    closeCode: code,
    closeReason: reason,
  });
}

/**
 * Classifies an HTTP status that refused a WebSocket handshake. `retryAfterMs`
 * is the wait the server asked for (its Retry-After, on 429 and 503): it goes
 * on the error and in the message.
 */
export function handshakeError(
  status: number,
  url: string,
  retryAfterMs?: number,
  refusal?: RefusalClass,
): TranscriptionError {
  const [defaultKind, defaultRetryable, defaultHint]: [TranscriptionErrorKind, boolean, string] =
    status === 401 || status === 403
      ? ['auth', false, 'check the credentials']
      : status === 429
        ? ['rate-limit', true, 'too many requests; slow down']
        : status >= 500
          ? ['server', true, 'the server failed']
          : ['protocol', false, 'is this the right URL for a WebSocket speech server?'];
  const kind = refusal?.kind ?? defaultKind;
  const retryable = refusal?.retryable ?? defaultRetryable;
  // The server's own words say more than a hint from the status alone.
  const hint = refusal?.detail !== undefined && refusal.detail !== '' ? refusal.detail : defaultHint;
  const wait =
    retryAfterMs === undefined ? '' : `; the server asks to wait ${Math.ceil(retryAfterMs / 1000)} s`;
  return new TranscriptionError(
    `the server refused the WebSocket handshake to ${url} with HTTP ${status} (${hint}${wait})`,
    {
      kind,
      retryable,
      httpStatus: status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    },
  );
}
