import type { Duplex } from 'node:stream';
import { writeHttpRefusal } from '../http-refusal.js';

/**
 * Refuses a `/v1/listen` upgrade over plain HTTP, as Deepgram does: a 4xx
 * status with a JSON body `{err_code, err_msg, request_id}`, the request id in
 * a `dg-request-id` header and the message in `dg-error` (developers.deepgram.com
 * changelog, 2022-11-08). Browsers see only that the handshake failed; Node
 * clients can read the body.
 */

/** Deepgram's error body. */
export interface DeepgramErrorBody {
  readonly err_code: string;
  readonly err_msg: string;
  readonly request_id: string;
}

/** HTTP 401: missing or unknown credentials. Deepgram's own body; the credential is never echoed. */
export function invalidAuth(requestId: string): { status: 401; body: DeepgramErrorBody } {
  return {
    status: 401,
    body: { err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.', request_id: requestId },
  };
}

/** HTTP 400: a query the server cannot serve. */
export function badRequest(requestId: string, reason: string): { status: 400; body: DeepgramErrorBody } {
  return {
    status: 400,
    body: { err_code: 'Bad Request', err_msg: `Bad Request: ${reason}`, request_id: requestId },
  };
}

/** HTTP 429: the server has no room for another session now (Deepgram's answer past a concurrency limit). */
export function tooManyRequests(requestId: string, reason: string): { status: 429; body: DeepgramErrorBody } {
  return {
    status: 429,
    body: { err_code: 'TOO_MANY_REQUESTS', err_msg: reason, request_id: requestId },
  };
}

/** Writes the refusal on the upgrade's socket and ends it. */
export function writeRefusal(socket: Duplex, refusal: { status: number; body: DeepgramErrorBody }): void {
  writeHttpRefusal(socket, refusal.status, JSON.stringify(refusal.body), 'application/json', {
    'dg-request-id': refusal.body.request_id,
    'dg-error': refusal.body.err_msg,
    ...(refusal.status === 429 ? { 'Retry-After': '1' } : {}),
  });
}
