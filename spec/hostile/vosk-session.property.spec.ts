import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { isTranscriptionError } from '../../src/errors/transcription-error.js';
import { transcribe } from '../../src/operators/transcribe.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import type { SocketFactory, WireMessage } from '../../src/transport/socket-driver.js';

const MONO_16K: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
const FRAME_MS = 100;
const chunk: AudioChunk = { format: MONO_16K, samples: new Int16Array(1600) };

/** Messages no Vosk server may send: each must end the session with a protocol error. */
const MALFORMED: readonly WireMessage[] = [
  'not json',
  '42',
  'null',
  '[1,2]',
  '{"partial": 5}',
  '{"text": 5}',
  '{"alternatives":[null]}',
  '{"alternatives":[]}',
  '{"result":[{"word":"x","start":0,"end":1e400}],"text":"x"}',
  '{"result":[{"word":"x","start":-1,"end":0.1}],"text":"x"}',
  '{"result":[{"word":"x","start":0.2,"end":0.1}],"text":"x"}',
  '{"result":[{"word":"x","start":0,"end":0.1,"conf":7}],"text":"x"}',
  '{"result":[{"word":"x","start":0,"end":1000000}],"text":"x"}',
  '{"result":[{"word":"x"}],"text":"x"}',
  '{"result":"x","text":"x"}',
  new Uint8Array([1, 2, 3]),
];

/** What the server does with one client message. */
type Plan =
  | { readonly kind: 'reply' }
  | { readonly kind: 'twice' }
  | { readonly kind: 'extra-partial' }
  | { readonly kind: 'malformed'; readonly message: WireMessage }
  | { readonly kind: 'silent' };

const plan: fc.Arbitrary<Plan> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Plan>({ kind: 'reply' }) },
  { weight: 1, arbitrary: fc.constant<Plan>({ kind: 'twice' }) },
  { weight: 1, arbitrary: fc.constant<Plan>({ kind: 'extra-partial' }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...MALFORMED).map<Plan>((message) => ({ kind: 'malformed', message })),
  },
  { weight: 1, arbitrary: fc.constant<Plan>({ kind: 'silent' }) },
);

interface Scenario {
  readonly frames: number;
  /** Plans for frames 1..frames, then for end-of-stream. */
  readonly plans: readonly Plan[];
  /** Which replies to audio are finals (the rest partials). */
  readonly finalAt: readonly boolean[];
  /** The EOF's valid reply is a partial (a protocol error) instead of the final. */
  readonly eofPartial: boolean;
  /** All the audio at once (many frames in flight) rather than a frame every other tick. */
  readonly burst: boolean;
  /** Ticks from a client message to the server's reply to it (replies keep their order). */
  readonly latency: number;
}

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 14 }).chain((frames) =>
  fc.record({
    frames: fc.constant(frames),
    plans: fc.array(plan, { minLength: frames + 1, maxLength: frames + 1 }),
    finalAt: fc.array(fc.boolean(), { minLength: frames, maxLength: frames }),
    eofPartial: fc.boolean().map((b) => b && Math.random() < 0.2),
    burst: fc.boolean(),
    latency: fc.integer({ min: 1, max: 6 }),
  }),
);

/**
 * The valid reply to frame n (1-based): a final whose one word covers the audio
 * since the last final up to the end of frame n (so always within what was sent),
 * or a partial.
 */
function validReply(n: number, isFinal: boolean, lastEnd: { ms: number }): { text: string; word?: string } {
  if (!isFinal) return { text: JSON.stringify({ partial: `p${n}` }) };
  const start = lastEnd.ms;
  const end = n * FRAME_MS;
  lastEnd.ms = end;
  const word = `w${n}`;
  return {
    text: JSON.stringify({ result: [{ word, start: start / 1000, end: end / 1000, conf: 1 }], text: word }),
    word,
  };
}

describe('the Vosk decoder and the session, against any sequence of server messages (property)', () => {
  it('give the right events or a typed error; never a TypeError, never a later final lost in silence', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        if (process.env.DEBUG_SCENARIO) s = JSON.parse(process.env.DEBUG_SCENARIO) as Scenario;
        const test = new TestScheduler((a, b) => expect(a).toEqual(b));
        /** The finals the server sent, in order, and whether everything it sent was valid. */
        const finalsSent: string[] = [];
        let allValid = true;
        const events: TranscriptEvent[] = [];
        let error: unknown;
        let completed = false;
        test.run(({ cold, flush }) => {
          const lastEnd = { ms: 0 };
          const factory: SocketFactory = (_url, _options, handlers) => {
            let closed = false;
            let frame = 0;
            let lastReplyAt = 0;
            const send = (message: WireMessage): void => {
              // In order, each `latency` ticks after what it answers at the earliest.
              lastReplyAt = Math.max(test.now() + s.latency, lastReplyAt);
              test.schedule(() => {
                if (!closed) handlers.message(message);
              }, lastReplyAt - test.now());
            };
            test.schedule(() => handlers.open(), 1);
            return {
              send(data) {
                if (closed) return;
                const isEof = typeof data === 'string' && data.includes('"eof"');
                if (typeof data === 'string' && !isEof) return; // the config
                const index = isEof ? s.frames : frame++;
                const what = s.plans[index]!;
                // End-of-stream is answered by the final of what is left (if anything is).
                const reply = isEof
                  ? s.eofPartial
                    ? { text: '{"partial": "still"}' }
                    : lastEnd.ms < s.frames * FRAME_MS
                      ? validReply(s.frames, true, lastEnd)
                      : { text: '{"text": ""}' }
                  : validReply(index + 1, s.finalAt[index]!, lastEnd);
                if (isEof && s.eofPartial) allValid = false;
                if (what.kind === 'silent') {
                  allValid = false;
                  return;
                }
                if (what.kind === 'malformed') {
                  allValid = false;
                  send(what.message);
                  return;
                }
                if (reply.word !== undefined) finalsSent.push(reply.word);
                send(reply.text);
                if (what.kind === 'twice') {
                  allValid = false;
                  send(reply.text);
                }
                if (what.kind === 'extra-partial') {
                  allValid = false;
                  send('{"partial": "extra"}');
                }
                if (isEof) {
                  test.schedule(
                    () => {
                      if (!closed) handlers.close(1000, '');
                      closed = true;
                    },
                    lastReplyAt - test.now() + 1,
                  );
                }
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
          const audio = cold(s.burst ? `-(${'a'.repeat(s.frames)}|)` : `${'-a'.repeat(s.frames)}|`, {
            a: chunk,
          });
          audio
            .pipe(
              transcribe({
                url: 'ws://test',
                socketFactory: factory,
                reconnect: false,
                // The session's timers as virtual actions of the test's scheduler (RxJS's run-mode
                // interval delegates trip over an interval cleared while an immediate runs in its turn).
                scheduler: test,
                deadAfterMs: 50,
                finalTimeoutMs: 100,
              }),
            )
            .subscribe({
              next: (event) => events.push(event),
              error: (e: unknown) => {
                error = e;
              },
              complete: () => {
                completed = true;
              },
            });
          flush();
        });
        const emitted = events.filter((e) => e.type === 'final').map((e) => e.text);
        // It ended, one way or the other, with a typed error if not completed.
        expect(completed || error !== undefined).toBe(true);
        if (error !== undefined) {
          expect(isTranscriptionError(error), String(error)).toBe(true);
          // What it says: a message it cannot take, replies that never came, or a close before the final.
          const { kind, closeCode } = error as { kind: string; closeCode?: number };
          expect(
            kind === 'protocol' || kind === 'timeout' || (kind === 'server' && closeCode === 1000),
            kind,
          ).toBe(true);
          expect((error as Error).message).not.toMatch(/Cannot read|is not a function|undefined/);
        }
        // The finals given are the finals sent, in order, with none skipped: a prefix of them...
        expect(finalsSent.slice(0, emitted.length)).toEqual(emitted);
        // ...all of them when it completed, and with a valid server it completes.
        if (completed) expect(emitted).toEqual(finalsSent);
        if (allValid) {
          expect(error).toBeUndefined();
          expect(completed).toBe(true);
          // Each final on the one timeline, where the server put it.
          for (const e of events.filter((x) => x.type === 'final')) {
            const n = Number(e.text.slice(1));
            expect(e.endMs).toBe(n * FRAME_MS);
          }
        }
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 400) },
    );
  });
});
