import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { VOSK_EOF } from '../../src/protocols/vosk.js';
import type { SessionStatus } from '../../src/session/session-status.js';
import { scriptedVosk } from '../helpers/scripted-socket.js';

const MONO_16K: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
const ms100 = (value: number): AudioChunk => ({
  format: MONO_16K,
  samples: new Int16Array(1600).fill(value),
});
const FINAL = JSON.stringify({ result: [{ word: 'done', start: 0.05, end: 0.25, conf: 1 }], text: 'done' });

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('transcribe reconnects (marbles)', () => {
  it('reports connecting, open, reconnecting (attempt, delay), open, closing, closed; resends the unfinalised audio first', () => {
    const test = scheduler();
    test.run(({ cold, expectObservable, flush }) => {
      const peer = scriptedVosk(test, { final: FINAL, closeAt: { frame: 2, code: 1006, reason: '' } });
      const statuses: Array<[number, SessionStatus]> = [];
      const t = transcribe({
        url: 'ws://test',
        socketFactory: peer.factory,
        reconnect: { initialDelayMs: 10, jitter: 'none' },
      });
      t.status$.subscribe((s) => statuses.push([test.now(), s]));
      const result = cold('--a-b-c|', { a: ms100(1), b: ms100(2), c: ms100(3) }).pipe(t);
      // After the reconnect at 16 the new server answers the resent frames at 17: 'w1' again is
      // no news, the rest are, then the final.
      expectObservable(result).toBe('---x-------------(yzf|)', {
        x: { type: 'partial', text: 'w1', startMs: 0, endMs: 100, words: [] },
        y: { type: 'partial', text: 'w1 w2', startMs: 0, endMs: 200, words: [] },
        z: { type: 'partial', text: 'w1 w2 w3', startMs: 0, endMs: 300, words: [] },
        f: {
          type: 'final',
          endOfUtterance: true,
          text: 'done',
          startMs: 50,
          endMs: 250,
          words: [{ text: 'done', startMs: 50, endMs: 250, confidence: 1 }],
        },
      });
      flush();
      expect(statuses.map(([at, s]) => [at, s.state])).toEqual([
        [0, 'connecting'],
        [1, 'open'],
        [5, 'reconnecting'],
        [7, 'closing'], // the audio ended during the outage
        [15, 'connecting'],
        [16, 'open'],
        [17, 'closed'],
      ]);
      expect(statuses[2]![1]).toMatchObject({
        attempt: 1,
        delayMs: 10,
        error: { closeCode: 1006, kind: 'network' },
      });
      expect(statuses.at(-1)![1]).toEqual({ state: 'closed', code: 1000, session: 1 });
      // Second connection: config, then the three frames again from the start (none was finalised), then EOF.
      const second = peer.log.sent.slice(peer.log.sent.lastIndexOf(peer.log.sent[0]!));
      expect(
        second.map((m) =>
          typeof m === 'string' ? m.slice(0, 8) : new Int16Array(m.buffer, m.byteOffset, 1)[0],
        ),
      ).toEqual(['{"config', 1, 2, 3, VOSK_EOF.slice(0, 8)]);
      expect(t.stats()).toMatchObject({ reconnects: 1, replayedMs: 200, unfinalisedMs: 0 });
    });
  });

  it('finds a connection that stops answering dead exactly deadAfterMs after the last message heard', () => {
    const test = scheduler();
    test.run(({ cold, flush }) => {
      test.maxFrames = 20_000;
      // Frames at 10, 110, 210 and 310 ms, each answered 150 ms later (so one is always awaited)
      // until the fourth: nothing after 360.
      const peer = scriptedVosk(test, { silentFrom: 4, replyAfter: 150 });
      let failedAt = Number.NaN;
      let failure: unknown;
      cold('10ms a 99ms b 99ms c 99ms d', { a: ms100(1), b: ms100(2), c: ms100(3), d: ms100(4) })
        .pipe(
          transcribe({ url: 'ws://test', socketFactory: peer.factory, deadAfterMs: 1000, reconnect: false }),
        )
        .subscribe({
          error: (error: unknown) => {
            failedAt = test.now();
            failure = error;
          },
        });
      flush();
      // Not on a grid of periodic checks (those came every 250 ms from the open at 1 ms: 1,501).
      expect(failedAt).toBe(360 + 1000);
      expect(failure).toMatchObject({ kind: 'timeout', retryable: true });
      expect(String((failure as Error).message)).toContain('no reply from the server for 1000 ms');
    });
  });

  it('does not retry when reconnect is off, and honours a user classification of close codes', () => {
    const test = scheduler();
    test.run(({ cold, expectObservable }) => {
      const peer = scriptedVosk(test, { closeAt: { frame: 1, code: 4001, reason: 'quota' } });
      const t = transcribe({
        url: 'ws://test',
        socketFactory: peer.factory,
        reconnect: { initialDelayMs: 10, jitter: 'none' },
        classifyClose: (code) => (code === 4001 ? { kind: 'rate-limit', retryable: false } : undefined),
      });
      expectObservable(cold('--a-b|', { a: ms100(1), b: ms100(2) }).pipe(t)).toBe(
        '---#',
        {},
        expect.objectContaining({ kind: 'rate-limit', retryable: false, closeCode: 4001 }),
      );
    });
  });
});
