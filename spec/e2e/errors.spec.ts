import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TranscriptionError } from '../../src/errors/transcription-error.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { vosk } from '../../src/protocols/vosk.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { fromAsyncIterable } from '../../src/sources/from-async-iterable.js';
import { fromFile } from '../../src/sources/from-file.js';
import { hostileServer, voskLike } from '../helpers/hostile-server.js';
import { activeResources, eventually } from '../helpers/resources.js';

const SAMPLE = new URL('../../samples/sense-and-sensibility-0870.wav', import.meta.url).pathname;

async function failure(url: string, options: Partial<Parameters<typeof transcribe>[0]> = {}, file = SAMPLE) {
  try {
    await lastValueFrom(fromFile(file).pipe(transcribe({ url, ...options }), toArray()));
  } catch (error) {
    return error as TranscriptionError;
  }
  throw new Error('expected the transcription to fail');
}

let server: RunningServer;
let sockets: number;
beforeAll(async () => {
  server = await startServer({ port: 0, engine: 'pocketsphinx' });
  sockets = activeResources().TCPSocketWrap ?? 0;
});
afterAll(async () => {
  // Nothing any failure above left open.
  await eventually(() => expect(activeResources().TCPSocketWrap ?? 0).toBeLessThanOrEqual(sockets));
  await server.close();
});

describe('errors a user can act on', () => {
  it('a sample rate the server cannot take: 1007, not retryable, with the server reason', async () => {
    // The server resamples 6-192 kHz to its model's rate; 4 kHz is below that.
    const error = await failure(server.url, { protocol: vosk({ sampleRate: 4000 }) });
    expect(error).toMatchObject({
      name: 'TranscriptionError',
      kind: 'protocol',
      retryable: false,
      closeCode: 1007,
    });
    expect(error.message).toMatch(/^server closed with 1007: sample rate 4000 \(from config\) not supported/);
  });

  it('nobody listening: a retryable network error naming the URL', async () => {
    const error = await failure('ws://127.0.0.1:1', { reconnect: { maxRetries: 2, initialDelayMs: 5 } });
    expect(error).toMatchObject({ kind: 'network', retryable: true });
    expect(error.message).toMatch(
      /could not connect to ws:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*is the server running/,
    );
  });

  it('refused credentials: an auth error with the HTTP status, not retryable', async () => {
    const rogue = await hostileServer(() => {}, {
      refuse: () => 'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n',
    });
    try {
      const error = await failure(rogue.url, { headers: { authorization: 'Bearer wrong' } });
      expect(error).toMatchObject({ kind: 'auth', retryable: false, httpStatus: 401 });
      expect(error.message).toMatch(/refused the WebSocket handshake .* HTTP 401 \(check the credentials\)/);
    } finally {
      await rogue.close();
    }
  });

  it('a server that sends what Vosk never sends: a protocol error quoting it', async () => {
    const rogue = await hostileServer(({ socket }) =>
      socket.on('message', () => socket.send('<html>oops</html>')),
    );
    try {
      const error = await failure(rogue.url);
      expect(error).toMatchObject({ kind: 'protocol', retryable: false });
      expect(error.message).toMatch(/cannot read \(not JSON\): <html>oops<\/html>/);
    } finally {
      await rogue.close();
    }
  });

  it('a server that closes normally before the final: a retryable server error', async () => {
    const rogue = await hostileServer(({ socket }) => socket.once('message', () => socket.close(1000)));
    try {
      const error = await failure(rogue.url, { reconnect: false });
      expect(error).toMatchObject({ kind: 'server', retryable: true, closeCode: 1000 });
      expect(error.message).toMatch(/before the final result/);
    } finally {
      await rogue.close();
    }
  });

  it('a server that never answers the end of stream: a timeout, retryable', async () => {
    const rogue = await hostileServer(voskLike({ eof: () => undefined, closeAfterEof: false }));
    try {
      const error = await failure(rogue.url, { finalTimeoutMs: 300, reconnect: false });
      expect(error).toMatchObject({ kind: 'timeout', retryable: true });
      expect(error.message).toMatch(/no final result within 300 ms/);
    } finally {
      await rogue.close();
    }
  });

  it('a file that is not WAV: bad-audio naming the file, and the socket is closed', async () => {
    const error = await failure(server.url, {}, '/etc/hostname');
    expect(error).toMatchObject({ kind: 'bad-audio', retryable: false });
    expect(error.message).toMatch(/\/etc\/hostname is not a WAV file/);
  });

  it('a stream that ends inside its WAV header: bad-audio', async () => {
    const truncated = fromAsyncIterable([new Uint8Array([0x52, 0x49, 0x46, 0x46, 1, 2, 3])], 'wav');
    const error = (await lastValueFrom(truncated.pipe(transcribe({ url: server.url }), toArray())).catch(
      (e: unknown) => e,
    )) as TranscriptionError;
    expect(error).toMatchObject({ kind: 'bad-audio' });
    expect(error.message).toMatch(/ends inside its WAV header/);
  });

  it('the engine dying mid-stream: 1011, retryable', async () => {
    const crashing = await startServer({
      port: 0,
      engine: {
        name: 'crashing',
        defaultSampleRate: 16000,
        checkSampleRate: () => undefined,
        createSession: () => ({
          accept: async () => {
            throw new Error('segfault');
          },
          finish: async () => '{"text": ""}',
          close: async () => {},
        }),
      },
    });
    try {
      const error = await failure(crashing.url, { reconnect: false });
      expect(error).toMatchObject({ kind: 'server', retryable: true, closeCode: 1011 });
      expect(error.message).toBe('server closed with 1011: recognition failed: segfault');
    } finally {
      await crashing.close();
    }
  });
});
