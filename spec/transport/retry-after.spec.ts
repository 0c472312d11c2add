import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TranscriptionError } from '../../src/errors/transcription-error.js';
import { connect } from '../../src/transport/websocket-connection.js';
import { activeResources, eventually, leakable } from '../helpers/resources.js';

// A server that sheds load refuses the WebSocket handshake with 429 or 503 and may say
// when to come back (Retry-After, RFC 9110 10.2.3). The error carries it, for the
// session's next delay.

/** The handshake answer for each path. */
const answers: Record<string, { status: string; headers?: Record<string, string> }> = {
  '/429-seconds': { status: '429 Too Many Requests', headers: { 'Retry-After': '7' } },
  '/429-date': {
    status: '429 Too Many Requests',
    headers: { 'Retry-After': new Date(Date.now() + 60_000).toUTCString() },
  },
  '/429-garbage': { status: '429 Too Many Requests', headers: { 'Retry-After': 'in a while' } },
  '/503-seconds': { status: '503 Service Unavailable', headers: { 'Retry-After': '120' } },
  '/503-none': { status: '503 Service Unavailable' },
  // Retry-After is read on 429 and 503 only.
  '/500-seconds': { status: '500 Internal Server Error', headers: { 'Retry-After': '5' } },
};

let url: string;
let close: () => Promise<void>;
let baseline: Record<string, number>;

beforeAll(async () => {
  baseline = leakable(activeResources());
  const http = createServer((_request, response) => response.writeHead(404).end());
  http.on('upgrade', (request, socket) => {
    const answer = answers[request.url ?? ''] ?? { status: '404 Not Found' };
    const headers = Object.entries(answer.headers ?? {})
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${answer.status}\r\n${headers}Content-Length: 0\r\nConnection: close\r\n\r\n`);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  close = async () => {
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  };
});
afterAll(async () => {
  await close();
  // Neither the refused client sockets nor the server are left open.
  await eventually(() => expect(leakable(activeResources())).toEqual(baseline));
});

/** The error `connect` fails with on `path`. */
function refusal(path: string): Promise<TranscriptionError> {
  return new Promise((resolve, reject) => {
    connect({ url: `${url}${path}` }).subscribe({
      next: (event) => reject(new Error(`expected a refusal, got ${event.type}`)),
      error: (error: TranscriptionError) => resolve(error),
      complete: () => reject(new Error('expected a refusal, got completion')),
    });
  });
}

describe('Retry-After on a refused handshake', () => {
  it('429 with delay-seconds: rate-limit, retryable, the wait in ms and in the message', async () => {
    const error = await refusal('/429-seconds');
    expect(error).toMatchObject({
      name: 'TranscriptionError',
      kind: 'rate-limit',
      retryable: true,
      httpStatus: 429,
      retryAfterMs: 7000,
    });
    expect(error.message).toBe(
      `the server refused the WebSocket handshake to ${url}/429-seconds with HTTP 429 (too many requests; slow down; the server asks to wait 7 s)`,
    );
  });

  it('429 with an HTTP-date: the time until it', async () => {
    const error = await refusal('/429-date');
    expect(error).toMatchObject({ kind: 'rate-limit', retryable: true, httpStatus: 429 });
    // The date was a minute ahead when the table was made (to the second, toUTCString drops ms).
    expect(error.retryAfterMs).toBeGreaterThan(50_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('503 with delay-seconds: server, retryable, the wait', async () => {
    const error = await refusal('/503-seconds');
    expect(error).toMatchObject({ kind: 'server', retryable: true, httpStatus: 503, retryAfterMs: 120_000 });
    expect(error.message).toContain('(the server failed; the server asks to wait 120 s)');
  });

  it('no Retry-After, one that does not parse, or one on another status: no wait', async () => {
    for (const [path, kind, status] of [
      ['/503-none', 'server', 503],
      ['/429-garbage', 'rate-limit', 429],
      ['/500-seconds', 'server', 500],
    ] as const) {
      const error = await refusal(path);
      expect(error, path).toMatchObject({ kind, retryable: true, httpStatus: status });
      expect(error.retryAfterMs, path).toBeUndefined();
      expect(error.message, path).not.toContain('asks to wait');
    }
  });
});
