import { get } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningServer, type ServerOptions, startServer } from '../../src/server/start-server.js';
import { syntheticPcm } from '../helpers/audio.js';
import { eventually } from '../helpers/resources.js';
import { CONFIG_16K, EOF } from '../helpers/vosk-client.js';

/** The server's own limits and authentication, the same on every protocol. */

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(options: ServerOptions): Promise<RunningServer> {
  server = await startServer({ port: 0, engine: 'synthetic', ...options });
  return server;
}

interface Outcome {
  /** The HTTP status of a refused handshake. */
  readonly status?: number;
  readonly body?: string;
  readonly headers?: Record<string, string | string[] | undefined>;
  /** The close of an accepted one. */
  readonly code?: number;
  readonly reason?: string;
}

/** Opens a socket and reports how it ended: refused over HTTP, or closed with a code. Keeps it open when `hold` is set. */
function connect(
  url: string,
  options: WebSocket.ClientOptions = {},
  hold?: (socket: WebSocket) => void,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, options);
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (data: Buffer) => {
        body += data.toString();
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
      );
    });
    socket.on('open', () => hold?.(socket));
    socket.on('error', () => {});
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/** Opens a Vosk session and keeps it open; resolves once open. */
function openSession(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options);
    socket.on('open', () => {
      socket.send(CONFIG_16K);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

function closed(socket: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (response) => {
      let body = '';
      response.on('data', (data: Buffer) => {
        body += data.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('session limits', () => {
  it('refuses sessions past maxSessions with 1013 and a reason, and admits again once one ends', async () => {
    const { url } = await serve({ limits: { maxSessions: 2 } });
    const first = await openSession(url);
    await openSession(url);
    const third = await connect(url);
    expect(third).toMatchObject({ code: 1013 });
    expect(third.reason).toMatch(/at capacity \(2 sessions\); try again later/);
    const firstClosed = closed(first);
    first.send(EOF);
    await firstClosed;
    await eventually(() => expect(server!.stats().sessions).toBe(1));
    const fourth = await openSession(url);
    expect(fourth.readyState).toBe(WebSocket.OPEN);
  });

  it('limits sessions per client address', async () => {
    const { url } = await serve({ limits: { maxSessionsPerAddress: 1 } });
    await openSession(url);
    const second = await connect(url);
    expect(second.code).toBe(1013);
    expect(second.reason).toMatch(/too many sessions from this address \(limit 1\)/);
  });

  it('answers a Deepgram client past the limit with HTTP 429 and Deepgram-shaped JSON', async () => {
    const { url } = await serve({ limits: { maxSessions: 1 } });
    await openSession(url);
    const refused = await connect(`${url}/v1/listen?encoding=linear16&sample_rate=16000`, {
      headers: { authorization: 'Token any' },
    });
    expect(refused.status).toBe(429);
    expect(refused.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(refused.body!)).toMatchObject({ err_code: 'TOO_MANY_REQUESTS' });
  });

  it('closes a session at maxSessionMs, and an idle one at idleTimeoutMs, with 1001 saying which', async () => {
    const { url } = await serve({ limits: { maxSessionMs: 300 } });
    const long = await openSession(url);
    // Audio keeps it busy: the length limit holds whatever it sends.
    const feeder = setInterval(() => long.send(syntheticPcm(0.1)), 50);
    const ended = await closed(long);
    clearInterval(feeder);
    expect(ended.code).toBe(1001);
    expect(ended.reason).toMatch(/limit of 300 ms; reconnect/);
    await server!.close();

    const { url: idleUrl } = await serve({ limits: { idleTimeoutMs: 300 } });
    const busy = await openSession(idleUrl);
    const idle = await openSession(idleUrl);
    const busyFeeder = setInterval(() => busy.send(syntheticPcm(0.05)), 50);
    const idleEnded = await closed(idle);
    expect(idleEnded.code).toBe(1001);
    expect(idleEnded.reason).toMatch(/no message for 300 ms/);
    expect(busy.readyState).toBe(WebSocket.OPEN);
    clearInterval(busyFeeder);
  });

  it('refuses browser origins not on the allow-list with 403, and lets in listed ones and non-browsers', async () => {
    const { url } = await serve({ limits: { allowedOrigins: ['https://app.example.com'] } });
    const foreign = await connect(url, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatch(/origin https:\/\/evil\.example is not allowed/);
    const listed = await openSession(url, { origin: 'https://APP.example.com' });
    expect(listed.readyState).toBe(WebSocket.OPEN);
    const noOrigin = await openSession(url);
    expect(noOrigin.readyState).toBe(WebSocket.OPEN);
  });

  it('checks its options', async () => {
    await expect(startServer({ port: 0, engine: 'synthetic', limits: { maxSessions: 0 } })).rejects.toThrow(
      /maxSessions must be a positive integer/,
    );
    await expect(
      startServer({ port: 0, engine: 'synthetic', limits: { allowedOrigins: ['app.example.com'] } }),
    ).rejects.toThrow(/origins like https:\/\/app.example.com/);
  });
});

describe('API keys on the Vosk protocol', () => {
  it('takes Authorization: Bearer KEY or ?token=KEY, and refuses anything else with 401 without echoing it', async () => {
    const { url } = await serve({ apiKeys: ['key-one', 'key-two'] });
    const none = await connect(url);
    expect(none.status).toBe(401);
    expect(none.body).toMatch(/Authorization: Bearer KEY/);
    const wrong = await connect(`${url}/?token=guessed-key`, {
      headers: { authorization: 'Bearer other-guess' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).not.toMatch(/guess/);
    expect((await openSession(url, { headers: { authorization: 'Bearer key-two' } })).readyState).toBe(
      WebSocket.OPEN,
    );
    expect((await openSession(`${url}/?token=key-one`)).readyState).toBe(WebSocket.OPEN);
  });
});

describe('graceful drain', () => {
  it('takes no new sessions, reports draining on /healthz, lets open ones finish, then stops', async () => {
    const running = await serve({});
    const healthy = await httpGet(`${running.url.replace('ws:', 'http:')}/healthz`);
    expect(healthy.status).toBe(200);
    expect(JSON.parse(healthy.body)).toMatchObject({ status: 'ok', sessions: 0 });

    const open = await openSession(running.url);
    const openClosed = closed(open);
    const drained = running.drain(5000);
    const draining = await httpGet(`${running.url.replace('ws:', 'http:')}/healthz`);
    expect(draining.status).toBe(503);
    expect(JSON.parse(draining.body)).toMatchObject({ status: 'draining', sessions: 1 });
    const late = await connect(running.url);
    expect(late.code).toBe(1013);
    expect(late.reason).toMatch(/shutting down/);

    open.send(syntheticPcm(0.2));
    open.send(EOF);
    expect((await openClosed).code).toBe(1000);
    await drained;
    expect(running.stats().sessions).toBe(0);
  });

  it('closes sessions that outlive the grace with 1001', async () => {
    const running = await serve({});
    const open = await openSession(running.url);
    const openClosed = closed(open);
    await running.drain(100);
    expect((await openClosed).code).toBe(1001);
  });
});
