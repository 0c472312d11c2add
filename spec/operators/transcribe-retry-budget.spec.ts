import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { backoffDelay } from '../../src/operators/retry-backoff.js';
import { transcribe } from '../../src/operators/transcribe.js';
import type { DecodedMessage, TranscriptionProtocol } from '../../src/protocols/protocol.js';
import { vosk } from '../../src/protocols/vosk.js';
import { CircuitBreaker } from '../../src/resilience/circuit-breaker.js';
import type { SessionMetrics } from '../../src/session/session-metrics.js';
import type { SessionStatus } from '../../src/session/session-status.js';
import type { SocketFactory, WireMessage } from '../../src/transport/socket-driver.js';
import { scriptedVosk } from '../helpers/scripted-socket.js';

const MONO_16K: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
const ms100: AudioChunk = { format: MONO_16K, samples: new Int16Array(1600) };

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A server that opens each connection after 1 frame and closes it with `code` 1 frame later, for ever. */
function openAndClose(test: TestScheduler, code: number): { factory: SocketFactory; opened: number[] } {
  const opened: number[] = [];
  const factory: SocketFactory = (_url, _options, handlers) => {
    let closed = false;
    test.schedule(() => {
      opened.push(test.now());
      handlers.open();
      test.schedule(() => {
        if (!closed) handlers.close(code, 'try again');
        closed = true;
      }, 1);
    }, 1);
    return {
      send() {},
      bufferedAmount: 0,
      close() {
        closed = true;
      },
      terminate() {
        closed = true;
      },
    };
  };
  return { factory, opened };
}

describe('the retry budget (marbles)', () => {
  it('a server that opens and closes for ever gets exactly maxRetries retries, with the delays of backoffDelay', () => {
    const test = scheduler();
    test.run(({ cold, expectObservable, flush }) => {
      const server = openAndClose(test, 1011);
      const random = [0.9, 0.1, 0.5, 0.7, 0.3];
      let draw = 0;
      const reconnect = {
        maxRetries: 4,
        initialDelayMs: 10,
        maxDelayMs: 60,
        multiplier: 2,
        jitter: 'full' as const,
        random: () => random[draw++ % random.length]!,
      };
      const t = transcribe({ url: 'ws://test', socketFactory: server.factory, reconnect });
      const delays: number[] = [];
      t.status$.subscribe((s) => s.state === 'reconnecting' && delays.push(s.delayMs));
      // What backoffDelay gives for the same draws.
      const expected: number[] = [];
      for (let attempt = 1, previous = 0; attempt <= reconnect.maxRetries; attempt++) {
        previous = backoffDelay(reconnect, attempt, previous, () => random[attempt - 1]!);
        expected.push(previous);
      }
      // Each connection lives 2 frames (opens after 1, closes 1 later); the waits between them.
      let at = 2;
      const opensAt = [1];
      for (const delay of expected) {
        opensAt.push(at + delay + 1);
        at += delay + 2;
      }
      expectObservable(cold('a', { a: ms100 }).pipe(t)).toBe(
        `${at}ms #`,
        undefined,
        expect.objectContaining({ kind: 'server', closeCode: 1011, retryable: true }),
      );
      flush();
      expect(server.opened).toEqual(opensAt);
      expect(delays).toEqual(expected);
      expect(new Set(expected).size).toBeGreaterThan(1); // jittered, not one fixed delay
    });
  });

  it('with a shared breaker, the failures open it after its threshold: no more connections, a breaker-open error with the cause', () => {
    const test = scheduler();
    test.run(({ cold, expectObservable, flush }) => {
      const server = openAndClose(test, 1013);
      const breaker = new CircuitBreaker({
        strategy: { kind: 'consecutive', failures: 3 },
        halfOpenAfterMs: 10_000,
        scheduler: test,
      });
      const states: string[] = [];
      breaker.state$.subscribe((s) => states.push(s));
      const t = transcribe({
        url: 'ws://test',
        socketFactory: server.factory,
        breaker,
        reconnect: { maxRetries: 6, initialDelayMs: 10, maxDelayMs: 10, jitter: 'none' },
      });
      // Connections at 1, 13, 25 fail; the 4th attempt (at 36) finds the breaker open; 3 more (10 ms apart) too.
      expectObservable(cold('a', { a: ms100 }).pipe(t)).toBe(
        '66ms #',
        undefined,
        expect.objectContaining({
          kind: 'breaker-open',
          retryable: true,
          cause: expect.objectContaining({ kind: 'rate-limit', closeCode: 1013 }),
        }),
      );
      flush();
      expect(server.opened).toEqual([1, 13, 25]);
      // Still open when the session gave up; half-open only after its 10 s.
      expect(states).toEqual(['closed', 'open', 'half-open']);
    });
  });

  it('a connection that is answered restores the budget: the delays start over', () => {
    const test = scheduler();
    test.run(({ cold, flush }) => {
      // Two connections in a row each answer audio none had answered (frame 1; then frame 2 of
      // the resent 1-3) and drop: with one retry allowed, only progress lets the second retry happen.
      const drop = (frame: number) => ({ frame, code: 1006, reason: '' });
      const peer = scriptedVosk(test, { closeAt: [drop(2), drop(3)] });
      const t = transcribe({
        url: 'ws://test',
        socketFactory: peer.factory,
        reconnect: { maxRetries: 1, initialDelayMs: 10, jitter: 'none' },
      });
      const statuses: SessionStatus[] = [];
      t.status$.subscribe((s) => statuses.push(s));
      cold('--a-b-c|', { a: ms100, b: ms100, c: ms100 })
        .pipe(t)
        .subscribe({ error: () => {} });
      flush();
      expect(statuses.filter((s) => s.state === 'reconnecting')).toMatchObject([
        { attempt: 1, delayMs: 10 },
        { attempt: 1, delayMs: 10 },
      ]);
      expect(statuses.at(-1)).toEqual({ state: 'closed', code: 1000, session: 1 });
    });
  });
});

/** A protocol whose server answers no message (as Deepgram's): replies carry results only. */
const replyless: TranscriptionProtocol = {
  ...vosk(),
  name: 'replyless',
  credit: 'drain',
  codec: () => {
    const base = vosk().codec();
    return {
      start: () => base.start(),
      encodeAudio: (frame) => base.encodeAudio(frame),
      end: () => base.end(),
      decode: decodeReplyless,
    };
  },
};

function decodeReplyless(data: WireMessage): DecodedMessage {
  const message = JSON.parse(data as string) as {
    words?: Array<{ word: string; start: number; end: number }>;
  };
  const words = (message.words ?? []).map((w) => ({ text: w.word, startMs: w.start, endMs: w.end }));
  return {
    results:
      words.length > 0 ? [{ type: 'final' as const, text: words.map((w) => w.text).join(' '), words }] : [],
  };
}

/**
 * A reply-less server: on each connection, after its `frames`-th audio frame it sends `say(connection,
 * frames sent before this connection)` (undefined: nothing), then closes with 1011.
 */
function replylessServer(
  test: TestScheduler,
  frames: number,
  say: (connection: number) => string | undefined,
): { factory: SocketFactory; connections: () => number } {
  let connections = 0;
  const factory: SocketFactory = (_url, _options, handlers) => {
    const connection = connections++;
    let audio = 0;
    let closed = false;
    test.schedule(() => handlers.open(), 1);
    return {
      send(data) {
        if (closed || typeof data === 'string' || ++audio !== frames) return;
        test.schedule(() => {
          const message = say(connection);
          if (message !== undefined) handlers.message(message);
          closed = true;
          handlers.close(1011, 'crash');
        }, 1);
      },
      bufferedAmount: 0,
      close() {
        closed = true;
      },
      terminate() {
        closed = true;
      },
    };
  };
  return { factory, connections: () => connections };
}

describe('progress for a protocol without replies (marbles)', () => {
  const reconnect = { maxRetries: 2, initialDelayMs: 10, jitter: 'none' } as const;
  const audio = '-(aaaaaaaaaa|)';
  // A window larger than the audio: with no replies, no credit ever comes back.
  const overReplyless = (socketFactory: SocketFactory) =>
    transcribe({ url: 'ws://test', socketFactory, protocol: replyless, reconnect, windowMs: 5000 });

  it('messages that settle nothing (metadata, keep-alives) are no progress: the budget runs out', () => {
    const test = scheduler();
    test.run(({ cold, flush }) => {
      const server = replylessServer(test, 3, () => '{"type": "Metadata"}');
      let error: unknown;
      cold(audio, { a: ms100 })
        .pipe(overReplyless(server.factory))
        .subscribe({ error: (e: unknown) => (error = e) });
      flush();
      expect(server.connections()).toBe(reconnect.maxRetries + 1);
      expect(error).toMatchObject({ kind: 'server', closeCode: 1011 });
    });
  });

  it('a final that settles audio not settled before is progress: each such connection restores the budget', () => {
    const test = scheduler();
    test.run(({ cold, flush }) => {
      // Connection n settles the audio up to 100 ms * (n + 1) (on its own timeline: the resent audio first).
      const server = replylessServer(test, 3, (n) =>
        n < 6 ? JSON.stringify({ words: [{ word: `w${n}`, start: 0, end: 100 }] }) : undefined,
      );
      const finals: string[] = [];
      cold(audio, { a: ms100 })
        .pipe(overReplyless(server.factory))
        .subscribe({ next: (e) => finals.push(e.text), error: () => {} });
      flush();
      // Six connections made progress; after the last of them, maxRetries retries that did not.
      expect(finals).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5']);
      expect(server.connections()).toBe(6 + reconnect.maxRetries);
    });
  });
});

describe('sessions of one operator (marbles)', () => {
  it('each subscription is its own session: statuses and stats say which; sessions$ gives each alone', () => {
    const test = scheduler();
    test.run(({ cold, flush }) => {
      const peer = scriptedVosk(test, { final: '{"text": ""}' });
      const t = transcribe({ url: 'ws://test', socketFactory: peer.factory, scheduler: test });
      const all: SessionStatus[] = [];
      t.status$.subscribe((s) => all.push(s));
      const alone: Array<{ id: number; states: string[]; stats: () => { session: number } }> = [];
      t.sessions$.subscribe((handle) => {
        const states: string[] = [];
        handle.status$.subscribe((s) => states.push(`${s.session}:${s.state}`));
        alone.push({ id: handle.id, states, stats: handle.stats });
      });
      cold('--a-b|', { a: ms100, b: ms100 }).pipe(t).subscribe();
      test.schedule(() => cold('-a|', { a: ms100 }).pipe(t).subscribe(), 3);
      flush();
      expect(alone.map((s) => s.id)).toEqual([1, 2]);
      expect(alone[0]!.states).toEqual(['1:connecting', '1:open', '1:closing', '1:closed']);
      expect(alone[1]!.states).toEqual(['2:connecting', '2:open', '2:closing', '2:closed']);
      // On the operator's stream they interleave, each saying which session it is about.
      expect(new Set(all.map((s) => s.session))).toEqual(new Set([1, 2]));
      const lastOfFirst = all.length - 1 - [...all].reverse().findIndex((s) => s.session === 1);
      expect(all.findIndex((s) => s.session === 2)).toBeLessThan(lastOfFirst);
      expect(alone[0]!.stats().session).toBe(1);
      expect(t.stats()?.session).toBe(2);
    });
  });

  it('metrics$ runs on the scheduler: a sample of every running session each interval, with its id', () => {
    const test = scheduler();
    test.run(({ cold, flush }) => {
      const peer = scriptedVosk(test, { final: '{"text": ""}', replyAfter: 5 });
      const t = transcribe({
        url: 'ws://test',
        socketFactory: peer.factory,
        scheduler: test,
        metricsIntervalMs: 10,
      });
      const samples: SessionMetrics[] = [];
      const sampling = t.metrics$.subscribe((m) => samples.push(m));
      cold('-a-a-a-a-a-a-a-a-a-a|', { a: ms100 }).pipe(t).subscribe();
      cold('-a-a-a-a-a|', { a: ms100 }).pipe(t).subscribe();
      // A periodic timer on a virtual clock: flush() runs until it is stopped.
      test.schedule(() => sampling.unsubscribe(), 60);
      flush();
      const seen = samples.map((m): [number, number, string] => [m.at, m.session, m.state]);
      // Both while both run, each with its id; session 2 ends first, with its last sample then...
      expect(seen.filter(([at]) => at === 10)).toEqual([
        [10, 1, 'open'],
        [10, 2, 'open'],
      ]);
      const secondEnd = seen.find(([, id, state]) => id === 2 && state === 'closed')!;
      const firstEnd = seen.find(([, id, state]) => id === 1 && state === 'closed')!;
      expect(secondEnd[0]).toBeLessThan(firstEnd[0]);
      expect(secondEnd[0] % 10).not.toBe(0); // as it ended, not on a tick
      // ...then session 1 alone, on the ticks, until it ends...
      const between = seen.filter(([at]) => at > secondEnd[0] && at < firstEnd[0]);
      expect(between.length).toBeGreaterThan(0);
      for (const [at, id] of between) expect([at % 10, id]).toEqual([0, 1]);
      // ...and once none runs, the latest session (2) as it ended, on each tick.
      const after = seen.filter(([at]) => at > firstEnd[0]);
      expect(after).toEqual([
        [30, 2, 'closed'],
        [40, 2, 'closed'],
        [50, 2, 'closed'],
      ]);
    });
  });
});
