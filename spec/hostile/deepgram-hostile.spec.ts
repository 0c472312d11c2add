import { concat, delay, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type AudioChunk, PCM16_16K_MONO } from '../../src/audio/audio-format.js';
import { type TranscribeOptions, transcribe } from '../../src/operators/transcribe.js';
import { type DeepgramOptions, deepgram } from '../../src/protocols/deepgram.js';
import { fromAsyncIterable } from '../../src/sources/from-async-iterable.js';
import { syntheticPcm } from '../helpers/audio.js';
import {
  against,
  type HostileConnection,
  outcomeOf,
  type SessionOutcome,
} from '../helpers/hostile-server.js';

const RETRY = { maxRetries: 3, initialDelayMs: 5, maxDelayMs: 40, multiplier: 2, jitter: 'none' } as const;
const KEY = 'dg-key-4f1c0b9e7a';
const AUDIO = syntheticPcm(2, 16000, 7);
const BYTES_PER_SECOND = 32000;
const second = (value: number): AudioChunk => ({
  format: PCM16_16K_MONO,
  samples: new Int16Array(16000).fill(value),
});

async function run(
  url: string,
  options: Partial<TranscribeOptions> = {},
  protocolOptions: DeepgramOptions = {},
  source = fromAsyncIterable([AUDIO], PCM16_16K_MONO),
): Promise<SessionOutcome> {
  const t = transcribe({
    protocol: deepgram({ apiKey: KEY, baseUrl: url, ...protocolOptions }),
    reconnect: RETRY,
    deadAfterMs: 150,
    finalTimeoutMs: 2000,
    ...options,
  });
  return outcomeOf(t, source, KEY);
}

const results = (start: number, duration: number, words: string[], isFinal = true): string =>
  JSON.stringify({
    type: 'Results',
    channel_index: [0, 1],
    start,
    duration,
    is_final: isFinal,
    speech_final: isFinal,
    channel: {
      alternatives: [
        {
          transcript: words.join(' '),
          confidence: 1,
          words: words.map((word, i) => ({
            word,
            start: start + i * 0.1,
            end: start + i * 0.1 + 0.05,
            confidence: 1,
          })),
        },
      ],
    },
    metadata: { request_id: 'r', model_info: { name: 'n', version: 'v', arch: 'a' }, model_uuid: 'u' },
  });
const METADATA = JSON.stringify({ type: 'Metadata', request_id: 'r', duration: 2, channels: 1 });

interface DeepgramScript {
  /** What to send when `second` (from 0) of this connection's audio is complete; default a final with one word. */
  readonly second?: (second: number, connection: HostileConnection) => string | undefined;
  /** What to do on CloseStream; default: the Metadata, then close 1000. */
  readonly closeStream?: (connection: HostileConnection) => void;
  /** Close with NET-0001 after this long without a message (as Deepgram does after 10 s). */
  readonly idleMs?: number;
}

/** A Deepgram-like server: a final per second of audio, Metadata and close 1000 on CloseStream. */
function deepgramLike(script: DeepgramScript = {}): (connection: HostileConnection) => void {
  return (connection) => {
    const { socket } = connection;
    let bytes = 0;
    let idle: NodeJS.Timeout | undefined;
    const touch = (): void => {
      if (script.idleMs === undefined) return;
      clearTimeout(idle);
      idle = setTimeout(() => socket.close(1011, 'NET-0001: no audio or KeepAlive'), script.idleMs);
    };
    touch();
    socket.on('close', () => clearTimeout(idle));
    socket.on('message', (data: Buffer, binary: boolean) => {
      touch();
      if (binary) {
        const before = Math.floor(bytes / BYTES_PER_SECOND);
        bytes += data.length;
        for (let s = before; s < Math.floor(bytes / BYTES_PER_SECOND); s++) {
          const reply = script.second ? script.second(s, connection) : results(s, 1, [`s${s}`]);
          if (reply !== undefined) socket.send(reply);
        }
        return;
      }
      const message = JSON.parse(data.toString()) as { type: string };
      if (message.type !== 'CloseStream') return;
      if (script.closeStream) script.closeStream(connection);
      else {
        socket.send(METADATA);
        socket.close(1000);
      }
    });
  };
}

describe('Deepgram: a server that accepts and drops every connection, retries run out', () => {
  const drops: Array<[string, (c: HostileConnection) => void, { kind: string; closeCode?: number }]> = [
    [
      'closes 1011 NET-0000 at once',
      ({ socket }) => socket.close(1011, 'NET-0000: internal'),
      { kind: 'network', closeCode: 1011 },
    ],
    [
      'drops the TCP connection (1006)',
      ({ socket }) => socket.terminate(),
      { kind: 'network', closeCode: 1006 },
    ],
    [
      'closes 1000 at the first audio',
      ({ socket }) => socket.on('message', (_d, binary) => binary && socket.close(1000)),
      { kind: 'server', closeCode: 1000 },
    ],
    ['takes audio and says nothing', () => {}, { kind: 'timeout' }],
  ];
  for (const [name, behave, expected] of drops) {
    it(`${name}: ${RETRY.maxRetries + 1} connections, then a retryable ${expected.kind} error`, async () => {
      await against(behave, async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ ...expected, retryable: true });
        expect(outcome.error?.message).toMatch(/gave up after 4 connections that made no progress/);
        expect(server.connections).toBe(RETRY.maxRetries + 1);
        expect(outcome.events).toEqual([]);
      });
    });
  }

  it('1008 DATA-0000 is bad audio: not retried', async () => {
    await against(
      ({ socket }) =>
        socket.on('message', () => socket.close(1008, 'DATA-0000: the payload cannot be decoded')),
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'bad-audio', retryable: false, closeCode: 1008 });
        expect(server.connections).toBe(1);
      },
    );
  });
});

describe('Deepgram: refusals at the handshake, in its own words', () => {
  const refusal = (status: string, body: string) =>
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;

  it("401 with INVALID_AUTH: auth, not retried, Deepgram's message shown and the key nowhere", async () => {
    const body = '{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials.","request_id":"0a1b"}';
    await against(
      deepgramLike(),
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'auth', retryable: false, httpStatus: 401 });
        expect(outcome.error?.message).toContain('Deepgram says: Invalid credentials. (INVALID_AUTH)');
        expect(server.handshakes).toBe(1);
      },
      { refuse: () => refusal('401 Unauthorized', body) },
    );
  });

  it('400 for a bad parameter: protocol, not retried, with the parameter named by Deepgram', async () => {
    const body = '{"err_code":"Bad Request","err_msg":"No such model/language/tier combination found."}';
    await against(
      deepgramLike(),
      async (server) => {
        const outcome = await run(server.url, {}, { model: 'nova-9' });
        expect(outcome.error).toMatchObject({ kind: 'protocol', retryable: false, httpStatus: 400 });
        expect(outcome.error?.message).toContain('No such model/language/tier combination found.');
      },
      { refuse: () => refusal('400 Bad Request', body) },
    );
  });

  it('429 with Retry-After: waits that long, then streams', async () => {
    await against(
      deepgramLike(),
      async (server) => {
        const outcome = await run(server.url, { reconnect: { ...RETRY, maxDelayMs: 5000 } });
        expect(outcome.error).toBeUndefined();
        expect(outcome.statuses.flatMap((s) => (s.state === 'reconnecting' ? [s.delayMs] : []))).toEqual([
          1000,
        ]);
        expect(outcome.events.filter((e) => e.type === 'final').map((e) => e.text)).toEqual(['s0', 's1']);
      },
      {
        refuse: (n) =>
          n === 0
            ? 'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nConnection: close\r\n\r\n'
            : undefined,
      },
    );
  });
});

describe('Deepgram: messages that contradict the audio or the protocol', () => {
  it('results past the audio sent: a protocol error quoting them', async () => {
    await against(deepgramLike({ second: (s) => results(s + 30, 1, ['late']) }), async (server) => {
      const outcome = await run(server.url);
      expect(outcome.error).toMatchObject({ kind: 'protocol', retryable: false });
      expect(outcome.error?.message).toMatch(/past the .* ms of audio sent on this connection/);
      expect(server.connections).toBe(1);
    });
  });

  it('text that is not JSON, and a message without a type', async () => {
    for (const bad of ['<html>oops</html>', '{"transcript":"x"}']) {
      await against(deepgramLike({ second: () => bad }), async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'protocol', retryable: false });
        expect(outcome.error?.message).toContain(bad.slice(0, 10));
      });
    }
  });

  it('a Metadata before CloseStream is passed over; the transcript completes at the real end', async () => {
    await against(
      deepgramLike({ second: (s) => (s === 0 ? METADATA : results(s, 1, [`s${s}`])) }),
      async (server) => {
        // The second second goes only after the Metadata has arrived: it cannot answer CloseStream.
        const later = concat(of(second(1)), of(second(2)).pipe(delay(300)));
        const outcome = await run(server.url, {}, {}, later);
        expect(outcome.error).toBeUndefined();
        expect(outcome.events.map((e) => e.text)).toEqual(['s1']);
      },
    );
  });

  it('a message after the Metadata that answers CloseStream: a protocol error', async () => {
    await against(
      deepgramLike({
        closeStream: ({ socket }) => {
          socket.send(METADATA);
          socket.send(results(1, 1, ['again']));
        },
      }),
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'protocol' });
        expect(outcome.error?.message).toMatch(/after its answer to end-of-stream/);
      },
    );
  });

  it('close 1000 after CloseStream without its Metadata: retried with nothing lost, then a server error', async () => {
    await against(deepgramLike({ closeStream: ({ socket }) => socket.close(1000) }), async (server) => {
      const outcome = await run(server.url);
      expect(outcome.error).toMatchObject({ kind: 'server', retryable: true, closeCode: 1000 });
      expect(outcome.error?.message).toMatch(/before the final result/);
      expect(outcome.events.map((e) => e.text)).toEqual(['s0', 's1']);
    });
  });
});

describe('Deepgram: KeepAlive keeps a paused stream alive', () => {
  it('a 1.5 s pause against a server that closes after 500 ms without a message: no close, the words all there', async () => {
    const paused = concat(of(second(1)), of(second(2)).pipe(delay(1500)));
    let keepAlives = 0;
    await against(
      (connection) => {
        connection.socket.on('message', (data: Buffer, binary: boolean) => {
          if (!binary && data.toString() === '{"type":"KeepAlive"}') keepAlives += 1;
        });
        deepgramLike({ idleMs: 500 })(connection);
      },
      async (server) => {
        const outcome = await run(server.url, { deadAfterMs: 2000 }, { keepAliveMs: 200 }, paused);
        expect(outcome.error).toBeUndefined();
        expect(outcome.events.filter((e) => e.type === 'final').map((e) => e.text)).toEqual(['s0', 's1']);
        expect(server.connections).toBe(1);
        expect(keepAlives).toBeGreaterThanOrEqual(4);
      },
    );
  });
});
