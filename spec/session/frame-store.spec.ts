import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameStore } from '../../src/session/frame-store.js';

const FRAME = 160;

/** What the store should hold: a plain list of frames. */
interface ModelFrame {
  seq: number;
  samples: number[];
  startMs: number;
  endMs: number;
  credit: number;
  sentAt: number;
}

type Op =
  | { kind: 'append'; length: number }
  | { kind: 'cut'; fraction: number }
  | { kind: 'release'; count: number }
  | { kind: 'credit' }
  | { kind: 'send' };

const op: fc.Arbitrary<Op> = fc.oneof(
  // Mostly whole frames, sometimes short ones (the last frame) or empty ones.
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('append' as const), length: fc.constant(FRAME) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('append' as const), length: fc.nat(3 * FRAME) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('cut' as const),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 7, arbitrary: fc.record({ kind: fc.constant('release' as const), count: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), count: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('credit' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('send' as const) }) },
);

function check(store: FrameStore, model: ModelFrame[]): void {
  expect(store.end - store.first).toBe(model.length);
  for (const m of model) {
    expect(Array.from(store.samples(m.seq))).toEqual(m.samples);
    expect(store.startMs(m.seq)).toBe(m.startMs);
    expect(store.endMs(m.seq)).toBe(m.endMs);
    expect(Object.is(store.sentAt(m.seq), m.sentAt)).toBe(true);
  }
}

describe('FrameStore (properties)', () => {
  it('holds every frame appended and not released, sample for sample, whatever the order of appends, cuts and releases', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 400 }), (ops) => {
        const store = new FrameStore(FRAME);
        const model: ModelFrame[] = [];
        let next = 0;
        let ms = 0;
        let peakHeld = 0;
        for (const o of ops) {
          if (o.kind === 'append') {
            const samples = Array.from({ length: o.length }, () => (next++ % 60000) - 30000);
            const seq = store.append(Int16Array.from(samples), ms, ms + o.length / 16);
            model.push({
              seq,
              samples,
              startMs: ms,
              endMs: ms + o.length / 16,
              credit: o.length / 16,
              sentAt: Number.NaN,
            });
            ms += o.length / 16;
          } else if (o.kind === 'cut' && model.length > 0) {
            const head = model[0]!;
            const n = Math.floor(head.samples.length * o.fraction);
            store.cutHead(head.seq, n, n / 16);
            head.samples = head.samples.slice(n);
            head.startMs += n / 16;
          } else if (o.kind === 'release') {
            const upTo = store.first + o.count;
            store.release(upTo);
            while (model.length > 0 && model[0]!.seq < upTo) model.shift();
          } else if (o.kind === 'credit' && model.length > 0) {
            const m = model[model.length - 1]!;
            expect(store.takeCredit(m.seq)).toBe(m.credit);
            m.credit = 0;
            expect(store.takeCredit(m.seq)).toBe(0);
          } else if (o.kind === 'send' && model.length > 0) {
            const m = model[0]!;
            // Only a frame's first send is its time.
            expect(store.markFirstSent(m.seq, next)).toBe(Number.isNaN(m.sentAt));
            if (Number.isNaN(m.sentAt)) m.sentAt = next;
          }
          const held = model.reduce((sum, m) => sum + m.samples.length, 0);
          peakHeld = Math.max(peakHeld, held);
          // Memory follows what is held: at most a few times it (and a small floor), never the stream.
          expect(store.capacityBytes).toBeLessThanOrEqual(
            2 * Math.max(16 * FRAME, 4 * (peakHeld + 3 * FRAME)),
          );
          check(store, model);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives memory back once a backlog is released', () => {
    const store = new FrameStore(FRAME);
    const frame = new Int16Array(FRAME).fill(7);
    // An outage: 3,000 frames held.
    for (let i = 0; i < 3000; i++) store.append(frame, i * 10, i * 10 + 10);
    const grown = store.capacityBytes;
    expect(grown).toBeGreaterThanOrEqual(3000 * FRAME * 2);
    // Then finalised, and the stream goes on holding 10 frames at a time.
    for (let i = 3000; i < 3200; i++) {
      store.release(store.end - 10);
      store.append(frame, i * 10, i * 10 + 10);
    }
    expect(store.capacityBytes).toBeLessThanOrEqual(4 * 11 * FRAME * 2);
  });

  it('does not reallocate in a steady state where what is held rises and falls with every final', () => {
    const store = new FrameStore(FRAME);
    const frame = new Int16Array(FRAME).fill(7);
    let ms = 0;
    const cycle = (): void => {
      // Thirty frames sent and unfinalised (a server that finalises every 3 s), then a final
      // covers all but one.
      for (let k = 0; k < 30; k++) {
        store.append(frame, ms, ms + 10);
        ms += 10;
      }
      store.release(store.end - 1);
    };
    for (let i = 0; i < 20; i++) cycle();
    const { resizes, capacityBytes } = store;
    for (let i = 0; i < 2000; i++) cycle();
    expect(store.resizes).toBe(resizes);
    expect(store.capacityBytes).toBe(capacityBytes);
    expect(capacityBytes).toBeLessThanOrEqual(4 * 31 * FRAME * 2);
  });

  it('starts a frame again at 0 only where it does not overlap the oldest frame kept', () => {
    const store = new FrameStore(FRAME);
    // 4 frames of 150 samples fill 600 of the 640 samples the store starts with.
    const frames = Array.from({ length: 4 }, (_, k) => new Int16Array(150).fill(k));
    for (const [k, f] of frames.entries()) store.append(f, k * 10, k * 10 + 10);
    store.release(1); // the oldest kept now starts at sample 150
    const longer = new Int16Array(155).fill(99);
    const seq = store.append(longer, 40, 50); // fits neither at the end nor before sample 150
    expect(Array.from(store.samples(1))).toEqual(Array.from(frames[1]!));
    expect(Array.from(store.samples(seq))).toEqual(Array.from(longer));
  });

  it('after wrapping, fills the gap before the oldest frame only as far as it goes', () => {
    const store = new FrameStore(FRAME);
    // 4 frames of 160 samples fill the 640 samples the store starts with.
    for (let k = 0; k < 4; k++) store.append(new Int16Array(FRAME).fill(k), k * 10, k * 10 + 10);
    store.release(2); // frame 2, the oldest kept, starts at sample 320
    store.append(new Int16Array(FRAME).fill(4), 40, 50); // wraps to sample 0
    const longer = new Int16Array(FRAME + 1).fill(5); // one sample more than the gap (160 to 320)
    const seq = store.append(longer, 50, 60);
    for (let k = 2; k <= 4; k++) expect(Array.from(store.samples(k))).toEqual(new Array(FRAME).fill(k));
    expect(Array.from(store.samples(seq))).toEqual(Array.from(longer));
  });

  it('keeps track of wrapping when an empty frame lands where the oldest frame starts', () => {
    const store = new FrameStore(FRAME);
    for (let k = 0; k < 4; k++) store.append(new Int16Array(FRAME).fill(k), k * 10, k * 10 + 10);
    store.release(1); // the oldest kept starts at sample 160
    store.append(new Int16Array(FRAME).fill(4), 40, 50); // wraps: 0 to 160
    store.append(new Int16Array(0), 50, 50); // empty, at sample 160
    const seq = store.append(new Int16Array(FRAME).fill(6), 50, 60); // no room left before frame 1
    for (let k = 1; k <= 4; k++) expect(Array.from(store.samples(k))).toEqual(new Array(FRAME).fill(k));
    expect(Array.from(store.samples(seq))).toEqual(new Array(FRAME).fill(6));
  });

  it('gives all of its sample memory back when cleared, and grows again if used', () => {
    const store = new FrameStore(FRAME);
    store.append(new Int16Array(FRAME).fill(1), 0, 10);
    store.clear();
    expect(store.capacityBytes).toBe(0);
    const seq = store.append(new Int16Array(FRAME).fill(2), 10, 20);
    expect(Array.from(store.samples(seq))).toEqual(new Array(FRAME).fill(2));
  });

  it('refuses frames it does not hold, with the range it does', () => {
    const store = new FrameStore(FRAME);
    store.append(new Int16Array(FRAME), 0, 10);
    store.append(new Int16Array(FRAME), 10, 20);
    store.release(1);
    expect(() => store.samples(0)).toThrow(/frame 0 is not held \(1 to 1\)/);
    expect(() => store.endMs(2)).toThrow(RangeError);
  });
});
