import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { prometheusSink } from '../../src/exporters/prometheus.js';
import { type TranscribeOptions, transcribe } from '../../src/operators/transcribe.js';
import { startServer } from '../../src/server/start-server.js';
import { fromFile } from '../../src/sources/from-file.js';

const SAMPLE = new URL('../../samples/sense-and-sensibility-0870.wav', import.meta.url).pathname;
const HEADERS = { authorization: 'Bearer SECRET-HEADER-TOKEN', 'x-api-key': 'SECRET-API-KEY' };

/** Runs one session, keeping every line a user could see: logs, error, statuses, metrics, Prometheus text. */
async function everythingSaid(url: string, extra: Partial<TranscribeOptions> = {}): Promise<string> {
  const lines: string[] = [];
  const log = (level: string) => (object: Record<string, unknown>, message: string) =>
    lines.push(`${level} ${message} ${JSON.stringify(object)}`);
  const registry = new Registry();
  const t = transcribe({
    url,
    headers: HEADERS,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    reconnect: { maxRetries: 2, initialDelayMs: 5 },
    metricsIntervalMs: 10,
    ...extra,
  });
  const tracking = prometheusSink(registry).track(t);
  t.status$.subscribe((s) =>
    lines.push(JSON.stringify(s, (k, v) => (k === 'error' ? { ...v, message: v.message } : v))),
  );
  t.metrics$.subscribe((m) => lines.push(JSON.stringify(m)));
  try {
    await lastValueFrom(fromFile(SAMPLE).pipe(t, toArray()));
  } catch (error) {
    const e = error as Error & Record<string, unknown>;
    lines.push(e.message, String(e.closeReason), String(e.stack), JSON.stringify(e));
  }
  await new Promise((resolve) => setTimeout(resolve, 30));
  lines.push(await registry.metrics());
  tracking.unsubscribe();
  expect(lines.length).toBeGreaterThan(3);
  return lines.join('\n');
}

describe('no secret in logs, errors, statuses or metrics', () => {
  it('a working session with a token in the URL and in headers', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic' });
    try {
      const said = await everythingSaid(`${server.url}/?token=SECRET-URL-TOKEN&lang=en`, {
        safeQueryParams: ['lang'],
      });
      expect(said).toMatch(/connection open/);
      expect(said).toMatch(/token=\*\*\*&lang=en/); // the URL is shown, redacted but for what is marked safe
      expect(said).not.toMatch(/SECRET/);
      // Unmarked, every query value is hidden, under any name.
      const unmarked = await everythingSaid(`${server.url}/?jwt=SECRETJWT1&lang=en`);
      expect(unmarked).toMatch(/jwt=\*\*\*&lang=\*\*\*/);
      expect(unmarked).not.toMatch(/SECRET/);
    } finally {
      await server.close();
    }
  });

  it('a refused connection, with credentials in the URL', async () => {
    const said = await everythingSaid('ws://someone:SECRET-PASSWORD@127.0.0.1:1/?api_key=SECRET-KEY');
    expect(said).toMatch(/could not connect to ws:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:1\/\?api_key=\*\*\*/);
    expect(said).not.toMatch(/SECRET/);
    // The error itself shows what is marked safe, as the logs do.
    const marked = await everythingSaid('ws://127.0.0.1:1/?api_key=SECRET-KEY&lang=en', {
      safeQueryParams: ['lang'],
    });
    expect(marked).toMatch(/could not connect to ws:\/\/127\.0\.0\.1:1\/\?api_key=\*\*\*&lang=en/);
    expect(marked).not.toMatch(/SECRET/);
  });

  it('a refused handshake (401) and a close whose reason quotes the token', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (socket) => socket.close(1008, 'invalid token SECRET-URL-TOKEN'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    const http401 = createServer();
    http401.on('upgrade', (_request, socket) => {
      socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer SECRET-HEADER-TOKEN\r\n\r\n');
    });
    await new Promise<void>((resolve) => http401.listen(0, '127.0.0.1', resolve));
    try {
      const closed = await everythingSaid(`ws://127.0.0.1:${port}/?token=SECRET-URL-TOKEN`);
      expect(closed).toMatch(/server closed with 1008: invalid token \*\*\*/);
      expect(closed).not.toMatch(/SECRET/);
      const refused = await everythingSaid(
        `ws://127.0.0.1:${(http401.address() as AddressInfo).port}/?access_token=SECRET-URL-TOKEN`,
      );
      expect(refused).toMatch(/HTTP 401/);
      expect(refused).not.toMatch(/SECRET/);
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      http401.closeAllConnections();
      await new Promise<void>((resolve) => http401.close(() => resolve()));
    }
  });

  it('a token as a path segment, or named by the user, is hidden too; so is a bad URL in option errors', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic' });
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    // A server that quotes back what it was given, path and all, in its close reason.
    wss.on('connection', (socket, request) => socket.close(4001, `refused ${request.url}`));
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    try {
      const port = (wss.address() as AddressInfo).port;
      const said = await everythingSaid(`ws://127.0.0.1:${port}/v1/stream/SECRETa1b2c3d4e5f6g7h8/live`, {
        secrets: ['SECRET-EXTRA'],
        headers: { ...HEADERS, 'x-trace': 'SECRET-EXTRA' },
      });
      expect(said).toMatch(/server closed with 4001: refused \/v1\/stream\/\*\*\*\/live/);
      expect(said).not.toMatch(/SECRET/);
      const working = await everythingSaid(`${server.url}/v1/SECRETtoken0123456789`);
      expect(working).toMatch(/connection open/);
      expect(working).not.toMatch(/SECRET/);
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await server.close();
    }
    for (const url of ['http://h/?token=SECRET-X', 'ws:/h?token=SECRET-X', 'SECRET-X']) {
      expect(() => transcribe({ url })).toThrow(TypeError);
      try {
        transcribe({ url });
      } catch (error) {
        expect((error as Error).message).not.toMatch(/SECRET/);
      }
    }
    const badHeader = { authorization: 42 } as unknown as Record<string, string>;
    expect(() => transcribe({ url: 'ws://h/?token=SECRET-X', headers: badHeader })).toThrow(
      /header "authorization" must be a string, got a number/,
    );
  });
});
