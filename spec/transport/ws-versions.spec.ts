import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  nodeSocketFactory,
  nodeSocketFactoryFor,
  WS_PRIVATE_WARNING,
} from '../../src/transport/node-socket.js';
import type { SocketFactory, WireMessage } from '../../src/transport/socket-driver.js';
import { type Connection, connect } from '../../src/transport/websocket-connection.js';
import { activeResources, eventually, leakable } from '../helpers/resources.js';

// The Node driver writes binary frames to ws's private `_socket` (decision 0012). These
// tests run it on the oldest ws that package.json allows and on the one installed (the
// newest the lockfile takes), and on ws-like sockets without that private field, where
// it must fall back to ws.send and say so.

const ROOT = new URL('../..', import.meta.url).pathname;
const OLDEST = '8.18.0';
const OLDEST_DIR = join(ROOT, 'node_modules', '.cache', `ws-${OLDEST}`);

const readJson = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const installedVersion = (readJson(join(ROOT, 'node_modules', 'ws', 'package.json')) as { version: string })
  .version;

function versionParts(version: string): [number, number, number] {
  const [major, minor, patch] = version.split('.').map(Number);
  return [major!, minor!, patch!];
}
function compareVersions(a: string, b: string): number {
  const [x, y] = [versionParts(a), versionParts(b)];
  for (let k = 0; k < 3; k++) if (x[k] !== y[k]) return x[k]! - y[k]!;
  return 0;
}

/** ws at the oldest version the range allows, installed once into a cache outside node_modules/ws. */
function oldestWs(): typeof WebSocket {
  const main = join(OLDEST_DIR, 'node_modules', 'ws');
  if (!existsSync(join(main, 'package.json'))) {
    execFileSync(
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', OLDEST_DIR, `ws@${OLDEST}`],
      { stdio: 'pipe', timeout: 120_000 },
    );
  }
  const require = createRequire(join(OLDEST_DIR, 'package.json'));
  expect((require(join(main, 'package.json')) as { version: string }).version).toBe(OLDEST);
  return require(main) as typeof WebSocket;
}

/** A ws server on loopback that records every message of every connection. */
async function recordingServer() {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 1 << 24 });
  const sessions: Array<{ messages: WireMessage[]; closed: Promise<number> }> = [];
  wss.on('connection', (ws) => {
    const messages: WireMessage[] = [];
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    sessions.push({ messages, closed });
    ws.on('message', (data: Buffer, isBinary) => {
      messages.push(isBinary ? new Uint8Array(data) : data.toString('utf8'));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`,
    sessions,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

function bytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return out;
}

/**
 * What a session sends: binary frames of every length form (7-bit, 16-bit, 64-bit),
 * odd and even, with text between some and runs of binary between others. The second
 * half is sent in batches, as the session's send passes are.
 */
function script(): WireMessage[] {
  const out: WireMessage[] = [];
  const sizes = [0, 1, 125, 126, 3199, 3200, 65_535, 65_536, 100_001];
  sizes.forEach((size, k) => {
    out.push(bytes(size, k), `text ${k}`);
  });
  for (let k = 0; k < 12; k++) out.push(bytes(3200, 100 + k));
  out.push('{"eof" : 1}');
  return out;
}

/**
 * Sends `messages` as the session does: binary bytes only lent (one scratch buffer,
 * overwritten right after each send), half of them one by one and half in batches.
 */
function play(connection: Connection, messages: readonly WireMessage[], onSent: () => void): void {
  const scratch = new Uint8Array(200_000);
  const send = (message: WireMessage): void => {
    if (typeof message === 'string') {
      connection.send(message, onSent);
      return;
    }
    scratch.set(message);
    connection.send(scratch.subarray(0, message.byteLength), onSent);
    scratch.fill(0xee, 0, message.byteLength);
  };
  const half = messages.length >> 1;
  for (const message of messages.slice(0, half)) send(message);
  for (let at = half; at < messages.length; at += 5) {
    connection.batch(() => {
      for (const message of messages.slice(at, at + 5)) send(message);
    });
  }
}

/** Opens a connection through `connect`, plays the script, closes with 1000; what the server got. */
async function exchange(
  factory: SocketFactory,
  server: Awaited<ReturnType<typeof recordingServer>>,
): Promise<{ sent: WireMessage[]; received: WireMessage[]; callbacks: () => number }> {
  const sent = script();
  let callbacks = 0;
  const before = server.sessions.length;
  await new Promise<void>((resolve, reject) => {
    connect({ url: server.url, socketFactory: factory }).subscribe({
      next: (event) => {
        if (event.type !== 'open') return;
        play(event.connection, sent, () => callbacks++);
        event.connection.close(1000);
      },
      error: reject,
      complete: resolve,
    });
  });
  const session = server.sessions[before]!;
  expect(await session.closed).toBe(1000);
  return { sent, received: session.messages, callbacks: () => callbacks };
}

/** Messages as short comparable lines (a deep comparison of 100 KB arrays takes a second). */
function summary(messages: readonly WireMessage[]): string[] {
  return messages.map((m) =>
    typeof m === 'string'
      ? `text ${JSON.stringify(m)}`
      : `binary ${m.byteLength} ${createHash('sha256').update(m).digest('hex').slice(0, 16)}`,
  );
}

/** Binary sends that went through ws's own `send` (the fallback path). */
function binarySends(spy: MockInstance): number {
  return spy.mock.calls.filter(([data]) => typeof data !== 'string').length;
}

let server: Awaited<ReturnType<typeof recordingServer>>;
let baseline: Record<string, number>;
let warnings: MockInstance<typeof process.emitWarning>;
const ourWarnings = () =>
  warnings.mock.calls.filter(
    ([, options]) => typeof options === 'object' && options?.code === WS_PRIVATE_WARNING,
  );

beforeAll(async () => {
  baseline = leakable(activeResources());
  server = await recordingServer();
  warnings = vi.spyOn(process, 'emitWarning');
});
afterAll(async () => {
  warnings.mockRestore();
  await server.close();
  await eventually(() => expect(leakable(activeResources())).toEqual(baseline));
});

describe('the ws versions package.json allows', () => {
  it(`package.json's range starts at ${OLDEST}, the oldest tested, and stays in 8.x`, () => {
    const range = (readJson(join(ROOT, 'package.json')) as { dependencies: { ws: string } }).dependencies.ws;
    // Widening it means testing the new oldest here first.
    const parsed = /^\s*(\^|~)?(\d+\.\d+\.\d+)\s*$/.exec(range);
    expect(parsed, `a ws range this test cannot read (${range}): test what it allows, then update`).not.toBe(
      null,
    );
    expect(parsed![2]).toBe(OLDEST);
    expect(versionParts(parsed![2]!)[0]).toBe(8);
  });

  it(`the installed ws (${installedVersion}) is the lockfile's and within the range: the newest tested`, () => {
    const lock = readJson(join(ROOT, 'package-lock.json')) as {
      packages: Record<string, { version?: string }>;
    };
    expect(lock.packages['node_modules/ws']?.version).toBe(installedVersion);
    expect(versionParts(installedVersion)[0]).toBe(8);
    expect(compareVersions(installedVersion, OLDEST)).toBeGreaterThanOrEqual(0);
  });

  const versions: Array<[string, () => { WebSocketClass: typeof WebSocket; factory: SocketFactory }]> = [
    [
      `ws ${OLDEST} (the oldest)`,
      () => {
        const WebSocketClass = oldestWs();
        return { WebSocketClass, factory: nodeSocketFactoryFor(WebSocketClass, () => OLDEST) };
      },
    ],
    [
      `ws ${installedVersion} (installed, the default factory)`,
      () => ({ WebSocketClass: WebSocket, factory: nodeSocketFactory }),
    ],
  ];

  for (const [name, load] of versions) {
    it(`${name}: binary frames written directly to its socket arrive intact and in order, text between`, async () => {
      const { WebSocketClass, factory } = load();
      const send = vi.spyOn(WebSocketClass.prototype, 'send');
      try {
        const { sent, received, callbacks } = await exchange(factory, server);
        expect(summary(received)).toEqual(summary(sent));
        await eventually(() => expect(callbacks()).toBe(sent.length));
        // The private path: no binary frame went through ws.send, text did.
        expect(binarySends(send)).toBe(0);
        expect(send.mock.calls.length).toBe(sent.filter((m) => typeof m === 'string').length);
        expect(ourWarnings()).toEqual([]);
      } finally {
        send.mockRestore();
      }
    });
  }
});

/**
 * A ws-like socket with no `_socket` (as a ws that made it truly private would be):
 * the public API of ws, delegated to a ws it hides.
 */
class WsWithoutPrivateSocket extends EventEmitter {
  readonly #ws: WebSocket;
  constructor(url: string, protocols: string[] | undefined, options: WebSocket.ClientOptions) {
    super();
    this.#ws = new WebSocket(url, protocols, options);
    for (const event of ['open', 'message', 'close', 'error', 'unexpected-response', 'ping', 'pong']) {
      this.#ws.on(event, (...args: unknown[]) => this.emit(event, ...args));
    }
  }
  get readyState(): number {
    return this.#ws.readyState;
  }
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }
  get extensions(): string {
    return this.#ws.extensions;
  }
  set binaryType(type: WebSocket['binaryType']) {
    this.#ws.binaryType = type;
  }
  send(data: WireMessage, callback?: (error?: Error) => void): void {
    this.#ws.send(data, callback);
  }
  ping(): void {
    this.#ws.ping();
  }
  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }
  terminate(): void {
    this.#ws.terminate();
  }
}

/** A real ws whose `_socket` is there but not a byte socket the writer can use (no numeric writableLength). */
class WsWithUnusableSocket extends WebSocket {
  setSocket(socket: Socket, ...rest: unknown[]): void {
    Object.defineProperty(socket, 'writableLength', { value: undefined, configurable: true });
    (WebSocket.prototype as unknown as { setSocket(...args: unknown[]): void }).setSocket.call(
      this,
      socket,
      ...rest,
    );
  }
}

describe('a ws without the private socket', () => {
  it('falls back to ws.send: frames intact and in order, and one warning per process naming the version', async () => {
    const wrapped = `${installedVersion} (hidden)`;
    const cases: Array<[typeof WebSocket, () => string | undefined, { prototype: { send: unknown } }]> = [
      [WsWithoutPrivateSocket as unknown as typeof WebSocket, () => wrapped, WsWithoutPrivateSocket],
      [WsWithoutPrivateSocket as unknown as typeof WebSocket, () => wrapped, WsWithoutPrivateSocket],
      [WsWithUnusableSocket, () => installedVersion, WebSocket],
    ];
    for (const [WebSocketClass, version, sender] of cases) {
      const send = vi.spyOn(sender.prototype as { send: (...args: unknown[]) => void }, 'send');
      try {
        const { sent, received, callbacks } = await exchange(
          nodeSocketFactoryFor(WebSocketClass, version),
          server,
        );
        expect(summary(received)).toEqual(summary(sent));
        await eventually(() => expect(callbacks()).toBe(sent.length));
        // Every frame, binary too, went through ws.send.
        expect(send.mock.calls.length).toBe(sent.length);
        expect(binarySends(send)).toBe(sent.filter((m) => typeof m !== 'string').length);
      } finally {
        send.mockRestore();
      }
    }
    const said = ourWarnings();
    expect(said).toHaveLength(1);
    const [message] = said[0]!;
    expect(message).toContain(`ws ${wrapped}`);
    expect(message).toContain('it has no _socket');
    expect(message).toContain('audio goes through ws.send instead');
  });
});
