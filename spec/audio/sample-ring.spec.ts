import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SampleRing } from '../../src/audio/sample-ring.js';

type Op =
  | { readonly kind: 'write'; readonly samples: number[] }
  | { readonly kind: 'read'; readonly count: number }
  | { readonly kind: 'discard'; readonly count: number }
  | { readonly kind: 'clear' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      samples: fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 24 }),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('read' as const), count: fc.nat({ max: 30 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('discard' as const), count: fc.nat({ max: 30 }) }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'clear' as const }), weight: 1 },
);

/** Runs `ops` against a ring and a plain array, checking after every step that they agree. */
function check<T extends Int16Array | Float32Array>(
  make: (length: number) => T,
  initialCapacity: number,
  maxCapacity: number | undefined,
  ops: Op[],
): void {
  const ring = new SampleRing(make, initialCapacity, maxCapacity);
  const limit = maxCapacity ?? Number.POSITIVE_INFINITY;
  let model: number[] = [];
  for (const step of ops) {
    switch (step.kind) {
      case 'write': {
        const samples = make(step.samples.length);
        samples.set(step.samples);
        if (model.length + samples.length > limit) {
          expect(() => ring.write(samples)).toThrow(RangeError);
        } else {
          ring.write(samples);
          model.push(...step.samples);
        }
        // The ring holds its own copy of what was written.
        samples.fill(1);
        break;
      }
      case 'read': {
        const out = ring.read(step.count);
        expect(Object.getPrototypeOf(out)).toBe(Object.getPrototypeOf(make(0)));
        expect(Array.from(out)).toEqual(model.splice(0, step.count));
        // What was read is the reader's: changing it changes nothing held.
        out.fill(7);
        break;
      }
      case 'discard':
        ring.discard(step.count);
        model.splice(0, step.count);
        break;
      case 'clear':
        ring.clear();
        model = [];
        break;
    }
    expect(ring.length).toBe(model.length);
    expect(ring.capacity).toBeGreaterThanOrEqual(ring.length);
    expect(ring.capacity).toBeLessThanOrEqual(Math.max(initialCapacity, limit));
  }
  expect(Array.from(ring.read(ring.length + 5))).toEqual(model);
  expect(ring.length).toBe(0);
}

describe('SampleRing', () => {
  it('behaves like an array (FIFO) for any sequence of writes, reads, discards and clears', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        fc.option(fc.integer({ min: 16, max: 64 }), { nil: undefined }),
        fc.array(op, { maxLength: 60 }),
        (initialCapacity, maxCapacity, ops) => {
          check((n) => new Int16Array(n), initialCapacity, maxCapacity, ops);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('behaves the same holding floats', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        fc.option(fc.integer({ min: 16, max: 64 }), { nil: undefined }),
        fc.array(op, { maxLength: 60 }),
        (initialCapacity, maxCapacity, ops) => {
          check((n) => new Float32Array(n), initialCapacity, maxCapacity, ops);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('keeps the order of samples that wrap around the end of the buffer', () => {
    const ring = new SampleRing((n) => new Int16Array(n), 4, 4);
    ring.write(new Int16Array([1, 2, 3]));
    expect(Array.from(ring.read(2))).toEqual([1, 2]);
    ring.write(new Int16Array([4, 5, 6])); // 5 and 6 wrap to the start
    expect(ring.capacity).toBe(4);
    expect(ring.length).toBe(4);
    expect(Array.from(ring.read(4))).toEqual([3, 4, 5, 6]);
  });

  it('grows while wrapped without reordering, and keeps growing to hold a large write', () => {
    const ring = new SampleRing((n) => new Float32Array(n), 4);
    ring.write(new Float32Array([1, 2, 3, 4]));
    ring.discard(3);
    ring.write(new Float32Array([5, 6])); // wrapped: 4 | 5 6
    ring.write(new Float32Array([7, 8, 9])); // grows
    expect(ring.capacity).toBeGreaterThanOrEqual(6);
    ring.write(new Float32Array(100).fill(0.5));
    expect(ring.length).toBe(106);
    expect(Array.from(ring.read(7))).toEqual([4, 5, 6, 7, 8, 9, 0.5]);
  });

  it('throws a RangeError for a write past maxCapacity and leaves what it holds unchanged', () => {
    const ring = new SampleRing((n) => new Int16Array(n), 2, 8);
    ring.write(new Int16Array([1, 2, 3, 4, 5, 6])); // grows to 6
    ring.discard(4);
    ring.write(new Int16Array([7, 8, 9, 10])); // wraps: 9 10 | 5 6 7 8
    expect(ring.capacity).toBe(6);
    expect(() => ring.write(new Int16Array([11, 12, 13]))).toThrow(RangeError);
    expect(() => ring.write(new Int16Array(100))).toThrow(/capacity of 8/);
    expect(ring.length).toBe(6);
    expect(ring.capacity).toBe(6);
    ring.write(new Int16Array([11, 12])); // grows to 8, unwrapping
    expect(ring.capacity).toBe(8);
    expect(() => ring.write(new Int16Array([13]))).toThrow(RangeError);
    expect(Array.from(ring.read(100))).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('reads fewer samples than asked when it holds fewer, and none when empty', () => {
    const ring = new SampleRing((n) => new Int16Array(n), 8);
    expect(ring.read(3)).toHaveLength(0);
    ring.write(new Int16Array([1, 2]));
    expect(Array.from(ring.read(3))).toEqual([1, 2]);
    ring.discard(5);
    expect(ring.length).toBe(0);
  });

  // Known bug: the limit is checked only when the ring grows, so an initial capacity above
  // maxCapacity lets writes past maxCapacity through. Flip to it() when fixed.
  it('throws for a write past maxCapacity even when the initial capacity is larger', () => {
    const ring = new SampleRing((n) => new Int16Array(n), 8, 4);
    expect(() => ring.write(new Int16Array(6))).toThrow(RangeError);
  });
});
