import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** A header value that cannot break the response: printable ASCII, cut short. */
export function safeHeaderValue(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 200 ? `${printable.slice(0, 197)}...` : printable;
}

/**
 * Refuses an upgrade over plain HTTP and ends the socket: a status, a short
 * body a person can act on, and any headers. Browsers see only that the
 * handshake failed; Node clients can read the status and body.
 */
export function writeHttpRefusal(
  socket: Duplex,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
  headers: Readonly<Record<string, string>> = {},
): void {
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    `Content-Type: ${contentType}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${safeHeaderValue(value)}`),
  ];
  socket.on('error', () => {}); // a client that hung up first: nothing to tell it
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
