import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

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

/** A header value that cannot break the response: printable ASCII, cut short. */
function headerValue(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 200 ? `${printable.slice(0, 197)}...` : printable;
}

/** Writes the refusal on the upgrade's socket and ends it. */
export function writeRefusal(socket: Duplex, refusal: { status: number; body: DeepgramErrorBody }): void {
  const json = JSON.stringify(refusal.body);
  const headers = [
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(json)}`,
    `dg-request-id: ${headerValue(refusal.body.request_id)}`,
    `dg-error: ${headerValue(refusal.body.err_msg)}`,
  ];
  socket.on('error', () => {}); // a client that hung up first: nothing to tell it
  socket.once('finish', () => socket.destroy());
  socket.end(`${headers.join('\r\n')}\r\n\r\n${json}`);
}
