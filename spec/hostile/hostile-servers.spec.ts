import { lastValueFrom, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { PCM16_16K_MONO } from '../../src/audio/audio-format.js';
import type { TranscriptionError } from '../../src/errors/transcription-error.js';
import { backoffDelay } from '../../src/operators/retry-backoff.js';
import { type TranscribeOptions, transcribe } from '../../src/operators/transcribe.js';
import { CircuitBreaker } from '../../src/resilience/circuit-breaker.js';
import type { SessionStatus } from '../../src/session/session-status.js';
import { fromAsyncIterable } from '../../src/sources/from-async-iterable.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { syntheticPcm } from '../helpers/audio.js';
import { against, type HostileConnection, type VoskScript, voskLike } from '../helpers/hostile-server.js';

/** Retries fast and without jitter, so the delays are known: 5, 10, 20 ms. */
const RETRY = { maxRetries: 3, initialDelayMs: 5, maxDelayMs: 40, multiplier: 2, jitter: 'none' } as const;
const AUDIO = syntheticPcm(2, 16000, 7);

interface Outcome {
  readonly events: TranscriptEvent[];
  readonly error: TranscriptionError | undefined;
  readonly statuses: SessionStatus[];
  readonly elapsedMs: number;
}

/** Transcribes 2 s of audio against `url`; what came of it, and how long it took to settle. */
async function run(url: string, options: Partial<TranscribeOptions> = {}): Promise<Outcome> {
  const statuses: SessionStatus[] = [];
  const events: TranscriptEvent[] = [];
  const t = transcribe({ url, reconnect: RETRY, deadAfterMs: 150, finalTimeoutMs: 2000, ...options });
  const watching = t.status$.subscribe((s) => statuses.push(s));
  const started = Date.now();
  let error: TranscriptionError | undefined;
  try {
    await lastValueFrom(
      fromAsyncIterable([AUDIO], PCM16_16K_MONO).pipe(
        t,
        tap((event) => events.push(event)),
        toArray(),
      ),
    );
  } catch (thrown) {
    error = thrown as TranscriptionError;
  }
  watching.unsubscribe();
  return { events, error, statuses, elapsedMs: Date.now() - started };
}

/** The delays a retry budget of RETRY must wait, in order. */
const EXPECTED_DELAYS = [1, 2, 3].map((attempt) => backoffDelay(RETRY, attempt, 0, () => 0));

function reconnectDelays(statuses: SessionStatus[]): number[] {
  return statuses.flatMap((s) => (s.state === 'reconnecting' ? [s.delayMs] : []));
}

describe('a server that accepts and drops every connection: retries run out', () => {
  const drops: Array<[string, (c: HostileConnection) => void, { kind: string; closeCode?: number }]> = [
    [
      'closes 1011 at once',
      ({ socket }) => socket.close(1011, 'internal'),
      { kind: 'server', closeCode: 1011 },
    ],
    [
      'closes 1013 at once',
      ({ socket }) => socket.close(1013, 'later'),
      { kind: 'rate-limit', closeCode: 1013 },
    ],
    ['closes 1001 at once', ({ socket }) => socket.close(1001, 'bye'), { kind: 'server', closeCode: 1001 }],
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
    ['goes silent', () => {}, { kind: 'timeout' }],
  ];
  for (const [name, behave, expected] of drops) {
    it(`${name}: ${RETRY.maxRetries + 1} connections with growing delays, then a retryable ${expected.kind} error`, async () => {
      await against(behave, async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ ...expected, retryable: true });
        expect(outcome.error?.message).toMatch(/gave up after 4 connections that made no progress/);
        expect(server.connections).toBe(RETRY.maxRetries + 1);
        expect(reconnectDelays(outcome.statuses)).toEqual(EXPECTED_DELAYS);
        expect(outcome.events).toEqual([]);
        // Four short connections and 35 ms of waiting (a silent one: 150 ms each to be found dead).
        expect(outcome.elapsedMs).toBeLessThan(5000);
      });
    });
  }

  it('a connection that moves the session on restores the budget; only those that do not spend it', async () => {
    // Connections 1 and 2 each answer audio no connection answered before; later ones answer the same 3 frames.
    const behave = voskLike({
      audio: (n, { index, socket }) => {
        const limit = index < 2 ? 3 * (index + 1) : 3;
        if (n > limit) return undefined;
        if (n === limit) setImmediate(() => socket.close(1011, 'crash'));
        return '{"partial": ""}';
      },
    });
    await against(behave, async (server) => {
      const outcome = await run(server.url, { windowMs: 100, frameMs: 100 });
      expect(outcome.error).toMatchObject({ kind: 'server', closeCode: 1011 });
      expect(server.connections).toBe(RETRY.maxRetries + 2);
      // The delay after connection 2 starts over from the first: it made progress.
      expect(reconnectDelays(outcome.statuses)).toEqual([EXPECTED_DELAYS[0], ...EXPECTED_DELAYS]);
    });
  });

  it('a shared breaker sees those failures and opens; the session ends with its error, the cause kept', async () => {
    const breaker = new CircuitBreaker({
      strategy: { kind: 'consecutive', failures: 2 },
      halfOpenAfterMs: 60_000,
    });
    await against(
      ({ socket }) => socket.close(1011, 'internal'),
      async (server) => {
        const outcome = await run(server.url, { breaker });
        expect(breaker.state).toBe('open');
        expect(server.connections).toBe(2);
        expect(outcome.error).toMatchObject({ kind: 'breaker-open', retryable: true });
        expect(outcome.error?.cause).toMatchObject({ kind: 'server', closeCode: 1011 });
      },
    );
  });
});

describe('results that contradict themselves or the audio: a protocol error quoting them, at once', () => {
  const finals: Array<[string, string]> = [
    ['an end time of 1e6 s', '{"result":[{"word":"far","start":0.1,"end":1000000,"conf":1}],"text":"far"}'],
    [
      'an end time of Infinity (1e400)',
      '{"result":[{"word":"far","start":0.1,"end":1e400,"conf":1}],"text":"far"}',
    ],
    ['a negative time', '{"result":[{"word":"neg","start":-0.5,"end":0.1,"conf":1}],"text":"neg"}'],
    ['a start after its end', '{"result":[{"word":"back","start":0.3,"end":0.1,"conf":1}],"text":"back"}'],
    ['a confidence of -7', '{"result":[{"word":"odd","start":0.1,"end":0.2,"conf":-7}],"text":"odd"}'],
    [
      'words out of order',
      '{"result":[{"word":"b","start":0.2,"end":0.3},{"word":"a","start":0.0,"end":0.1}],"text":"b a"}',
    ],
    ['a null alternative', '{"alternatives":[null]}'],
    ['no alternatives', '{"alternatives":[]}'],
    ['a word without times', '{"result":[{"word":"x"}],"text":"x"}'],
    ['a result that is not a list', '{"result":{"word":"x"},"text":"x"}'],
  ];
  for (const [name, reply] of finals) {
    it(`${name}`, async () => {
      await against(voskLike({ audio: (n) => (n === 5 ? reply : '{"partial": ""}') }), async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'protocol', retryable: false });
        expect(outcome.error?.message).toContain(reply.slice(0, 40));
        expect(outcome.error?.message).not.toMatch(/Cannot read|undefined is not|TypeError/);
        expect(server.connections).toBe(1);
        expect(outcome.events.filter((e) => e.type === 'final')).toEqual([]);
      });
    });
  }

  it('a final reaching back over the final before it, on the same connection', async () => {
    const first = '{"result":[{"word":"one","start":0.1,"end":0.9,"conf":1}],"text":"one"}';
    const second = '{"result":[{"word":"two","start":0.2,"end":1.1,"conf":1}],"text":"two"}';
    await against(
      voskLike({ audio: (n) => (n === 10 ? first : n === 12 ? second : '{"partial": ""}') }),
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'protocol' });
        expect(outcome.error?.message).toMatch(/reaches back/);
        // The valid final before it was given, and nothing after it was passed off as done.
        expect(outcome.events.filter((e) => e.type === 'final').map((e) => e.text)).toEqual(['one']);
      },
    );
  });

  it('a binary message, and text that is not JSON', async () => {
    for (const reply of [Buffer.from([1, 2, 3]), '<html>busy</html>']) {
      await against(
        ({ socket }) => socket.on('message', (_d, binary) => binary && socket.send(reply)),
        async (server) => {
          const outcome = await run(server.url);
          expect(outcome.error).toMatchObject({ kind: 'protocol', retryable: false });
          expect(outcome.error?.message).toMatch(/3 binary bytes|<html>busy<\/html>/);
        },
      );
    }
  });
});

describe('replies that do not add up: a protocol error, never a completion without the final', () => {
  const scripts: Array<[string, VoskScript, RegExp]> = [
    [
      'every reply twice',
      { audio: () => ['{"partial": ""}', '{"partial": ""}'], eof: () => ['{"text": ""}', '{"text": ""}'] },
      /more replies than it was sent messages/,
    ],
    [
      'a flood of partials',
      { audio: (n) => Array.from({ length: 5 }, () => `{"partial": "w${n}"}`) },
      /more replies than it was sent messages/,
    ],
    [
      'end-of-stream answered with a partial',
      { eof: () => '{"partial": "still going"}' },
      /end-of-stream without a final result/,
    ],
  ];
  for (const [name, script, message] of scripts) {
    it(name, async () => {
      await against(voskLike(script), async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'protocol', retryable: false });
        expect(outcome.error?.message).toMatch(message);
        expect(server.connections).toBe(1);
      });
    });
  }

  it('a reply before any audio was sent', async () => {
    await against(
      ({ socket }) => socket.send('{"partial": "hello?"}'),
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'protocol' });
        expect(outcome.error?.message).toMatch(/no message awaiting one/);
      },
    );
  });

  it('a server that closes 1000 after end-of-stream without answering it: retried, then a server error', async () => {
    await against(voskLike({ eof: () => undefined }), async (server) => {
      const outcome = await run(server.url);
      expect(outcome.error).toMatchObject({ kind: 'server', retryable: true, closeCode: 1000 });
      expect(outcome.error?.message).toMatch(/before the final result/);
      // Each connection answered audio: only the first answered audio never answered before.
      expect(server.connections).toBe(RETRY.maxRetries + 1);
    });
  });
});

describe('refusals at the handshake', () => {
  it('401: auth, not retried', async () => {
    await against(
      voskLike(),
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'auth', retryable: false, httpStatus: 401 });
        expect(server.handshakes).toBe(1);
      },
      { refuse: () => 'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n' },
    );
  });

  it('429 with Retry-After in seconds: the next attempt waits at least that long, then goes on', async () => {
    await against(
      voskLike(),
      async (server) => {
        const outcome = await run(server.url, { reconnect: { ...RETRY, maxDelayMs: 5000 } });
        expect(outcome.error).toBeUndefined();
        const waits = reconnectDelays(outcome.statuses);
        expect(waits).toEqual([1000]);
        expect(outcome.elapsedMs).toBeGreaterThanOrEqual(1000);
        expect(server.handshakes).toBe(2);
      },
      {
        refuse: (n) =>
          n === 0
            ? 'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nConnection: close\r\n\r\n'
            : undefined,
      },
    );
  });

  it('503 with Retry-After as an HTTP date; a wait longer than maxDelayMs is cut to it', async () => {
    await against(
      voskLike(),
      async (server) => {
        const outcome = await run(server.url, { reconnect: { ...RETRY, maxDelayMs: 5000 } });
        const [wait] = reconnectDelays(outcome.statuses);
        expect(wait).toBeGreaterThan(500);
        expect(wait).toBeLessThanOrEqual(2000);
      },
      {
        refuse: (n) =>
          n === 0
            ? `HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${new Date(Date.now() + 2000).toUTCString()}\r\nConnection: close\r\n\r\n`
            : undefined,
      },
    );
    await against(
      voskLike(),
      async (server) => {
        const outcome = await run(server.url);
        expect(reconnectDelays(outcome.statuses)).toEqual([RETRY.maxDelayMs]);
      },
      {
        refuse: (n) =>
          n === 0
            ? 'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\nConnection: close\r\n\r\n'
            : undefined,
      },
    );
  });
});
