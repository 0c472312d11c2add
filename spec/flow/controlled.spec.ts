import { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { Demand } from '../../src/flow/demand.js';
import { FlowStats } from '../../src/flow/flow-stats.js';
import { controlled } from '../../src/operators/controlled.js';
import { fromAsyncIterable } from '../../src/sources/from-async-iterable.js';

// 1 kHz keeps the arithmetic plain: one sample frame is one millisecond.
const F: AudioFormat = { sampleRate: 1000, channels: 1, encoding: 'pcm_s16le' };
let counter = 0;
/** A chunk of `ms` milliseconds whose samples count up, so drops show which audio went. */
function chunk(ms: number): AudioChunk {
  const samples = new Int16Array(ms);
  for (let i = 0; i < ms; i++) samples[i] = counter++;
  return { format: F, samples };
}
const values = (c: AudioChunk): number[] => Array.from(c.samples);

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('controlled (marbles): demand accounting', () => {
  it('passes audio on only against demand, and more as more is requested', () => {
    counter = 0;
    const test = scheduler();
    test.run(({ cold, expectObservable }) => {
      const demand = new Demand();
      const a = chunk(100);
      const b = chunk(100);
      const c = chunk(100);
      const source = cold('(abc)', { a, b, c });
      // Nothing requested until 2; 150 ms then (a, and b on credit), 100 more at 6 (c).
      test.schedule(() => demand.request(150), 2);
      test.schedule(() => demand.request(100), 6);
      expectObservable(source.pipe(controlled({ demand }))).toBe('--(ab)c', { a, b, c });
    });
  });

  it('adds requests made in the same instant, and a request from inside the emission is served in the same loop', () => {
    counter = 0;
    const test = scheduler();
    test.run(({ cold, expectObservable }) => {
      const demand = new Demand();
      const [a, b, c] = [chunk(50), chunk(50), chunk(50)];
      test.schedule(() => {
        demand.request(30);
        demand.request(20); // together: 50, one chunk
      }, 1);
      const out = cold('(abc)', { a, b, c }).pipe(controlled({ demand }));
      // Every emission asks for one more chunk, re-entrantly: all go out at 1, no recursion.
      const result = new Observable<AudioChunk>((subscriber) =>
        out.subscribe({
          next(x) {
            subscriber.next(x);
            demand.request(50);
          },
          complete: () => subscriber.complete(),
        }),
      );
      expectObservable(result).toBe('-(abc)', { a, b, c });
    });
  });

  it('passes buffered audio on at completion before completing', () => {
    counter = 0;
    const test = scheduler();
    test.run(({ cold, expectObservable }) => {
      const demand = new Demand();
      const [a, b] = [chunk(100), chunk(100)];
      test.schedule(() => demand.request(100), 3);
      test.schedule(() => demand.request(100), 6);
      expectObservable(cold('ab|', { a, b }).pipe(controlled({ demand }))).toBe('---a--(b|)', { a, b });
    });
  });

  it('passes errors at once, buffered audio or not', () => {
    counter = 0;
    scheduler().run(({ cold, expectObservable }) => {
      const error = new Error('device lost');
      expectObservable(cold('a#', { a: chunk(10) }, error).pipe(controlled({ demand: new Demand() }))).toBe(
        '-#',
        {},
        error,
      );
    });
  });
});

describe('controlled (marbles): overflow of sources that cannot wait', () => {
  it("'drop-oldest' keeps the newest audio and counts every dropped sample", () => {
    counter = 0;
    const test = scheduler();
    test.run(({ cold, expectObservable, flush }) => {
      const demand = new Demand();
      const stats = new FlowStats();
      const [a, b, c] = [chunk(100), chunk(100), chunk(100)];
      test.schedule(() => demand.request(1000), 5);
      const out = cold('abc|', { a, b, c }).pipe(controlled({ demand, maxBufferMs: 250, stats }));
      // c does not fit: the oldest 50 ms (of a) go.
      expectObservable(out).toBe('-----(xbc|)', {
        x: { format: F, samples: a.samples.subarray(50) },
        b,
        c,
      });
      flush();
      expect(stats.snapshot()).toMatchObject({
        producedSamples: 300,
        droppedSamples: 50,
        emittedSamples: 250,
        peakBufferedSamples: 250,
        bufferedSamples: 0,
        pull: false,
      });
    });
  });

  it("'drop-newest' keeps what is buffered and what fits of the new audio", () => {
    counter = 0;
    const test = scheduler();
    test.run(({ cold, expectObservable, flush }) => {
      const demand = new Demand();
      const stats = new FlowStats();
      const [a, b, c] = [chunk(100), chunk(100), chunk(100)];
      test.schedule(() => demand.request(1000), 5);
      const out = cold('abc|', { a, b, c }).pipe(
        controlled({ demand, maxBufferMs: 250, overflow: 'drop-newest', stats }),
      );
      expectObservable(out).toBe('-----(abx|)', {
        a,
        b,
        x: { format: F, samples: c.samples.subarray(0, 50) },
      });
      flush();
      expect(stats.droppedSamples).toBe(50);
      expect(stats.emittedSamples + stats.droppedSamples).toBe(stats.producedSamples);
    });
  });

  it("'error' errors with an overflow error saying what to do", () => {
    counter = 0;
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('abc|', { a: chunk(100), b: chunk(100), c: chunk(100) }).pipe(
        controlled({ demand: new Demand(), maxBufferMs: 250, overflow: 'error' }),
      );
      expectObservable(out).toBe(
        '--#',
        {},
        expect.objectContaining({
          kind: 'overflow',
          retryable: false,
          message: expect.stringMatching(/250 ms buffer/),
        }),
      );
    });
  });

  it('a chunk larger than the whole buffer keeps its newest part (drop-oldest)', () => {
    counter = 0;
    scheduler().run(({ cold, expectObservable }) => {
      const demand = new Demand();
      const big = chunk(400);
      const out = cold('a|', { a: big }).pipe(controlled({ demand, maxBufferMs: 100 }));
      demand.request(1000);
      expectObservable(out).toBe('x|', { x: { format: F, samples: big.samples.subarray(300) } });
    });
  });

  it('sent + dropped = produced, to the sample, for any arrivals and requests (drop-oldest and drop-newest)', () => {
    for (const overflow of ['drop-oldest', 'drop-newest'] as const) {
      for (let seed = 1; seed <= 30; seed++) {
        counter = 0;
        let s = seed;
        const rand = (n: number): number => {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          return s % n;
        };
        const test = scheduler();
        test.run(({ flush }) => {
          const demand = new Demand();
          const stats = new FlowStats();
          const emitted: number[] = [];
          const arrivals = Array.from({ length: 40 }, () => chunk(1 + rand(120)));
          const source = new Observable<AudioChunk>((subscriber) => {
            for (const [i, c] of arrivals.entries()) test.schedule(() => subscriber.next(c), i * 3);
            test.schedule(() => subscriber.complete(), arrivals.length * 3);
          });
          controlled({ demand, maxBufferMs: 200, overflow, stats })(source).subscribe((c) =>
            emitted.push(...values(c)),
          );
          for (let t = 0; t < 200; t += 5) test.schedule(() => demand.request(1 + rand(60)), t);
          test.schedule(() => demand.request(100_000), 400);
          flush();
          expect(stats.peakBufferedSamples).toBeLessThanOrEqual(200);
          expect(stats.emittedSamples + stats.droppedSamples).toBe(stats.producedSamples);
          expect(emitted.length).toBe(stats.emittedSamples);
          // What went out is in order, a subsequence of what came in.
          for (let i = 1; i < emitted.length; i++) expect(emitted[i]!).toBeGreaterThan(emitted[i - 1]!);
        });
      }
    }
  });
});

describe('controlled: sources that can wait', () => {
  it('lets a pull source read only what is requested, however fast it could go', async () => {
    const demand = new Demand();
    const stats = new FlowStats();
    let read = 0;
    async function* bytes(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 1000; i++) {
        read += 20; // 10 ms at 1 kHz, 16-bit
        yield new Uint8Array(20);
      }
    }
    const got: AudioChunk[] = [];
    const subscription = fromAsyncIterable(bytes(), F)
      .pipe(controlled({ demand, stats }))
      .subscribe((c) => got.push(c));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(stats.pull).toBe(true);
    expect(read).toBe(0); // no demand: not even the first read
    demand.request(100);
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(got.reduce((n, c) => n + c.samples.length, 0)).toBe(100);
    expect(read).toBeLessThanOrEqual(220); // 100 ms is 200 bytes: what was asked for, and at most one read ahead
    expect(stats.peakBufferedSamples).toBeLessThanOrEqual(10);
    subscription.unsubscribe();
  });
});

describe('controlled: a pull source handing out more than asked', () => {
  it('keeps the whole chunk (never drops audio from a source that waits)', async () => {
    const demand = new Demand();
    const stats = new FlowStats();
    // One 10 s chunk at once, as a fetch() body may give a whole file, against a 1 s buffer.
    const got: AudioChunk[] = [];
    const done = new Promise<void>((resolve) => {
      fromAsyncIterable([new Uint8Array(20_000)], F)
        .pipe(controlled({ demand, maxBufferMs: 1000, stats }))
        .subscribe({ next: (c) => got.push(c), complete: resolve });
    });
    demand.request(100_000);
    await done;
    expect(stats.pull).toBe(true);
    expect(stats.droppedSamples).toBe(0);
    expect(got.reduce((n, c) => n + c.samples.length, 0)).toBe(10_000);
  });
});
