import { describe, expect, it } from 'vitest';
import { PCM16_16K_MONO } from '../../src/audio/audio-format.js';
import { type TranscribeOptions, transcribe } from '../../src/operators/transcribe.js';
import { type AssemblyAIOptions, assemblyai } from '../../src/protocols/assemblyai.js';
import { fromAsyncIterable } from '../../src/sources/from-async-iterable.js';
import { syntheticPcm } from '../helpers/audio.js';
import {
  against,
  type HostileConnection,
  outcomeOf,
  type SessionOutcome,
} from '../helpers/hostile-server.js';

// AssemblyAI's audio goes at real time: a second of it per connection keeps these short.
const RETRY = { maxRetries: 3, initialDelayMs: 5, maxDelayMs: 40, multiplier: 2, jitter: 'none' } as const;
const KEY = 'aai-key-7d2e9f01c4';
const AUDIO = syntheticPcm(1, 16000, 7);
const BYTES_PER_SECOND = 32000;

async function run(
  url: string,
  options: Partial<TranscribeOptions> = {},
  protocolOptions: AssemblyAIOptions = {},
): Promise<SessionOutcome> {
  const t = transcribe({
    protocol: assemblyai({ apiKey: KEY, baseUrl: url, ...protocolOptions }),
    reconnect: RETRY,
    deadAfterMs: 300,
    connectTimeoutMs: 500,
    finalTimeoutMs: 1500,
    ...options,
  });
  return outcomeOf(t, fromAsyncIterable([AUDIO], PCM16_16K_MONO), KEY);
}

const BEGIN = JSON.stringify({ type: 'Begin', id: 's', expires_at: 0 });
const turn = (order: number, words: Array<[string, number, number]>, endOfTurn = true): string =>
  JSON.stringify({
    type: 'Turn',
    turn_order: order,
    turn_is_formatted: false,
    end_of_turn: endOfTurn,
    transcript: words.map(([w]) => w).join(' '),
    end_of_turn_confidence: 0.9,
    words: words.map(([text, start, end]) => ({
      text,
      start,
      end,
      confidence: 0.9,
      word_is_final: endOfTurn,
    })),
  });
const errorFrame = (code: number, error: string): string =>
  JSON.stringify({ type: 'Error', error_code: code, error });

interface Script {
  /** Send Begin on connect (default true). */
  readonly begin?: boolean;
  /** What to send when `second` (from 0) of audio is complete; default a turn with one word. */
  readonly second?: (second: number, connection: HostileConnection) => string | undefined;
  /** What to do at the first audio frame. */
  readonly firstAudio?: (connection: HostileConnection) => void;
}

/** An AssemblyAI-like server: Begin, a turn per second of audio, Termination and close 1000 on Terminate. */
function assemblyaiLike(script: Script = {}): (connection: HostileConnection) => void {
  return (connection) => {
    const { socket } = connection;
    let bytes = 0;
    if (script.begin !== false) socket.send(BEGIN);
    socket.on('message', (data: Buffer, binary: boolean) => {
      if (binary) {
        if (bytes === 0 && script.firstAudio !== undefined) {
          bytes += data.length;
          script.firstAudio(connection);
          return;
        }
        const before = Math.floor(bytes / BYTES_PER_SECOND);
        bytes += data.length;
        for (let s = before; s < Math.floor(bytes / BYTES_PER_SECOND); s++) {
          const reply = script.second
            ? script.second(s, connection)
            : turn(s, [[`s${s}`, s * 1000, s * 1000 + 500]]);
          if (reply !== undefined) socket.send(reply);
        }
        return;
      }
      const message = JSON.parse(data.toString()) as { type: string };
      if (message.type !== 'Terminate') return;
      socket.send(
        JSON.stringify({ type: 'Termination', audio_duration_seconds: 1, session_duration_seconds: 1 }),
      );
      socket.close(1000);
    });
  };
}

describe('AssemblyAI: a well-behaved peer, for contrast', () => {
  it('one turn per second: the words, a clean end', async () => {
    await against(assemblyaiLike(), async (server) => {
      const outcome = await run(server.url);
      expect(outcome.error).toBeUndefined();
      expect(outcome.events.filter((e) => e.type === 'final').map((e) => e.text)).toEqual(['s0']);
      expect(server.connections).toBe(1);
    });
  });
});

describe('AssemblyAI: a server that accepts and drops every connection, retries run out', () => {
  const drops: Array<[string, (c: HostileConnection) => void, { kind: string; closeCode?: number }]> = [
    [
      'closes 3005 at once',
      ({ socket }) => socket.close(3005, 'Session Cancelled'),
      { kind: 'server', closeCode: 3005 },
    ],
    [
      'drops the TCP connection after Begin (1006)',
      assemblyaiLike({ firstAudio: ({ socket }) => socket.terminate() }),
      { kind: 'network', closeCode: 1006 },
    ],
    [
      'closes 1000 at the first audio',
      assemblyaiLike({ firstAudio: ({ socket }) => socket.close(1000) }),
      { kind: 'server', closeCode: 1000 },
    ],
    ['never sends Begin', assemblyaiLike({ begin: false }), { kind: 'timeout' }],
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
});

describe('AssemblyAI: an Error message, then the close', () => {
  it("1008 unauthorised: auth, not retried, the server's words shown and the key nowhere", async () => {
    await against(
      ({ socket }) => {
        socket.send(errorFrame(1008, 'Unauthorized Connection: Invalid API key'));
        socket.close(1008, 'Unauthorized Connection: Invalid API key');
      },
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'auth', retryable: false, closeCode: 1008 });
        expect(outcome.error?.message).toContain('Unauthorized Connection: Invalid API key');
        expect(server.connections).toBe(1);
      },
    );
  });

  it('3006 for a bad parameter: protocol, not retried', async () => {
    await against(
      ({ socket }) => {
        socket.send(errorFrame(3006, 'Invalid query parameter speech_model'));
        socket.close(3006, 'See Error message for details');
      },
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'protocol', retryable: false });
        expect(outcome.error?.message).toContain('Invalid query parameter speech_model');
        expect(server.connections).toBe(1);
      },
    );
  });

  it('3009 too many sessions on the first connection: retried, and the second gives the words', async () => {
    await against(
      (connection) => {
        if (connection.index === 0) {
          connection.socket.send(errorFrame(3009, 'Unauthorized Connection: Too many concurrent sessions'));
          connection.socket.close(3009);
          return;
        }
        assemblyaiLike()(connection);
      },
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toBeUndefined();
        expect(outcome.events.filter((e) => e.type === 'final').map((e) => e.text)).toEqual(['s0']);
        expect(server.connections).toBe(2);
        const lost = outcome.statuses.find((s) => s.state === 'reconnecting');
        expect(lost).toMatchObject({ error: { kind: 'rate-limit', retryable: true } });
      },
    );
  });

  it('3008 session expired mid-stream: a new connection, no word lost or doubled', async () => {
    await against(
      (connection) => {
        if (connection.index === 0) {
          assemblyaiLike({
            firstAudio: ({ socket }) => {
              socket.send(errorFrame(3008, 'Session Expired: Maximum session duration exceeded'));
              socket.close(3008);
            },
          })(connection);
          return;
        }
        assemblyaiLike()(connection);
      },
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toBeUndefined();
        expect(outcome.events.filter((e) => e.type === 'final').map((e) => e.text)).toEqual(['s0']);
        expect(server.connections).toBe(2);
      },
    );
  });
});

describe('AssemblyAI: malformed or contradictory messages fail the session with a protocol error', () => {
  const bad: Array<[string, string | Uint8Array, RegExp]> = [
    ['text that is not JSON', 'not json at all', /not JSON/],
    ['a binary message', new Uint8Array([1, 2, 3]), /binary/],
    [
      'a Turn without transcript',
      JSON.stringify({ type: 'Turn', end_of_turn: true }),
      /Turn without a string "transcript"/,
    ],
    ['a word that starts after it ends', turn(0, [['x', 500, 100]]), /starts after it ends/],
    ['a word far past the audio sent', turn(0, [['x', 60_000, 61_000]]), /past|beyond|audio/],
    [
      'a confidence out of range',
      JSON.stringify({
        type: 'Turn',
        end_of_turn: true,
        transcript: 'x',
        words: [{ text: 'x', start: 0, end: 10, confidence: 7 }],
      }),
      /confidence/,
    ],
  ];
  for (const [name, message, reason] of bad) {
    it(`${name}: not retried, quoted in the error`, async () => {
      await against(
        assemblyaiLike({ second: () => undefined, firstAudio: ({ socket }) => socket.send(message) }),
        async (server) => {
          const outcome = await run(server.url);
          expect(outcome.error).toMatchObject({ kind: 'protocol', retryable: false });
          expect(outcome.error?.message).toMatch(reason);
          expect(outcome.error?.message).toMatch(/assemblyai/i);
          expect(server.connections).toBe(1);
        },
      );
    });
  }
});
