import { type Socket, connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningServer, type ServerOptions, startServer } from '../../src/server/start-server.js';
import { expectedSyntheticWords, syntheticPcm } from '../helpers/audio.js';
import { childProcesses } from '../helpers/processes.js';
import { activeResources, eventually, leakable } from '../helpers/resources.js';
import { CONFIG_16K, chunk, EOF, finalWords, runClient } from '../helpers/vosk-client.js';

/** The reference server against clients that misbehave: it stays up, bounded, and leaks nothing. */

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(options: ServerOptions = {}): Promise<RunningServer> {
  server = await startServer({ port: 0, engine: 'synthetic', ...options });
  return server;
}

/** A raw TCP connection to the server, with what it has received and whether the server closed it. */
function raw(port: number): Promise<{ socket: Socket; received: () => string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
    });
    const ended = new Promise<void>((done) => socket.on('close', () => done()));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => received, ended }));
    socket.once('error', reject);
  });
}

const UPGRADE =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/** The server still serves an ordinary client, word for word. */
async function stillServes(url: string): Promise<void> {
  const pcm = syntheticPcm(1);
  const run = await runClient(url, [CONFIG_16K, ...chunk(pcm, 3200), EOF]);
  expect(run.closeCode).toBe(1000);
  expect(finalWords(run).map((w) => w.word)).toEqual(expectedSyntheticWords(pcm).map((w) => w.word));
}

describe('hostile clients', () => {
  it('cuts off a handshake that never finishes (slowloris), and serves others meanwhile', async () => {
    const { port, url } = await serve({ limits: { handshakeTimeoutMs: 300 } });
    const slow = await raw(port);
    slow.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    const drip = setInterval(() => slow.socket.write('X-Drip: 1\r\n'), 50);
    await stillServes(url);
    await slow.ended;
    clearInterval(drip);
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes with 1002 on frames that break the WebSocket framing (unmasked, bad opcode), and goes on', async () => {
    const { port, url } = await serve();
    for (const frame of [
      Buffer.from([0x82, 0x02, 0x01, 0x02]), // a binary frame without the client's mask
      Buffer.from([0x83, 0x80, 0, 0, 0, 0]), // a reserved opcode
      Buffer.from([0xf2, 0x80, 0, 0, 0, 0]), // reserved bits set
    ]) {
      const client = await raw(port);
      client.socket.write(UPGRADE);
      await eventually(() => expect(client.received()).toMatch(/101 Switching Protocols/));
      client.socket.write(frame);
      await client.ended;
      const close = client.received().split('\r\n\r\n')[1] ?? '';
      // The close frame: 0x88, length, then the code 1002 (0x03ea).
      expect(Buffer.from(close, 'latin1').subarray(2, 4).readUInt16BE(0)).toBe(1002);
    }
    await stillServes(url);
  });

  it('takes a message fragmented into many continuation frames as one', async () => {
    const { url } = await serve();
    const pcm = syntheticPcm(1);
    const socket = new WebSocket(url);
    await new Promise((resolve) => socket.on('open', resolve));
    const replies: string[] = [];
    socket.on('message', (data: Buffer) => replies.push(data.toString()));
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    socket.send(CONFIG_16K);
    const pieces = chunk(pcm, 320);
    for (const [i, piece] of pieces.entries())
      socket.send(piece, { binary: true, fin: i === pieces.length - 1 });
    socket.send(EOF);
    expect(await closed).toBe(1000);
    // One reply for the one (fragmented) audio message, one for EOF.
    expect(replies).toHaveLength(2);
    const words = replies.flatMap(
      (reply) => (JSON.parse(reply) as { result?: Array<{ word: string }> }).result?.map((w) => w.word) ?? [],
    );
    expect(words).toEqual(expectedSyntheticWords(pcm).map((w) => w.word));
  });

  it('stops taking audio from a client that never reads its replies (memory stays bounded)', async () => {
    const { url } = await serve({ maxFrameBytes: 4096 });
    const socket = new WebSocket(url);
    await new Promise((resolve) => socket.on('open', resolve));
    // Never read: the client's TCP receive window fills and the server's replies back up.
    (socket as unknown as { _socket: Socket })._socket.pause();
    socket.send(CONFIG_16K);
    const frame = syntheticPcm(0.001); // 32 bytes: a reply of ~15 bytes for each
    const sent = 600_000; // ~9 MB of replies: more than the kernel's buffers (4 MiB here) hold for a client that never reads
    for (let i = 0; i < sent; i++) socket.send(frame);
    // Wait until the server has stopped taking audio: two looks 200 ms apart agree.
    let last = -1;
    await eventually(() => {
      const now = server!.stats().audioBytes;
      const settled = now === last;
      last = now;
      if (!settled) throw new Error('still taking audio');
    }, 20_000);
    const taken = server!.stats();
    // The server waits once 1 MiB of replies is unread, so it stops short of the end.
    expect(taken.audioBytes).toBeLessThan(sent * frame.length);
    // The queue's high water (64 KiB), plus the messages of one socket read already parsed when reading stops.
    expect(taken.peakQueuedBytes).toBeLessThan(2 * 64 * 1024 + 4096);
    socket.terminate();
    await eventually(() => expect(server!.stats().sessions).toBe(0));
    await stillServes(url);
  });

  it('survives thousands of connect/close cycles (and abrupt drops) with nothing left behind', async () => {
    const before = leakable(activeResources());
    const { url } = await serve();
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        Array.from(
          { length: 100 },
          (_, i) =>
            new Promise<void>((resolve) => {
              const socket = new WebSocket(url);
              socket.on('open', () => {
                if (i % 3 === 0) socket.terminate();
                else if (i % 3 === 1) socket.close(1000);
                else socket.send(CONFIG_16K, () => socket.close());
              });
              socket.on('close', () => resolve());
              socket.on('error', () => resolve());
            }),
        ),
      );
    }
    await eventually(() => expect(server!.stats().sessions).toBe(0));
    expect(server!.stats().sessionsTotal).toBe(2000);
    await stillServes(url);
    await server!.close();
    server = undefined;
    await eventually(() => expect(leakable(activeResources())).toEqual(before));
  });

  it('leaves no engine process behind after pocketsphinx sessions are dropped mid-stream', async () => {
    const { url } = await serve({ engine: 'pocketsphinx' });
    const engines = (): number[] => childProcesses('pocketsphinx');
    await Promise.all(
      Array.from(
        { length: 10 },
        () =>
          new Promise<void>((resolve) => {
            const socket = new WebSocket(url);
            socket.on('open', () => {
              socket.send(CONFIG_16K);
              socket.send(syntheticPcm(0.5), () => socket.terminate());
            });
            socket.on('close', () => resolve());
          }),
      ),
    );
    await eventually(() => expect(server!.stats().sessions).toBe(0));
    // A warm pool may keep its own parent; no session's process outlives its session.
    await eventually(() => expect(engines().length).toBeLessThanOrEqual(1), 10_000);
  });
});
