import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskGenerator } from '../../src/transport/frame-mask.js';
import { type ByteSocket, MaskedFrameWriter, maskInto } from '../../src/transport/masked-frame-writer.js';
import { nativeMask } from '../../src/transport/native-mask.js';

/** Parses client frames as a server does (RFC 6455 5.2): payloads unmasked, in order. */
function parseFrames(wire: Uint8Array): { payloads: Uint8Array[]; masks: string[] } {
  const payloads: Uint8Array[] = [];
  const masks: string[] = [];
  let at = 0;
  while (at < wire.length) {
    expect(wire[at]).toBe(0x82); // FIN, binary
    const second = wire[at + 1]!;
    expect(second & 0x80).toBe(0x80); // masked, as clients must
    let size = second & 0x7f;
    let header = 2;
    if (size === 126) {
      size = (wire[at + 2]! << 8) | wire[at + 3]!;
      header = 4;
      expect(size).toBeGreaterThanOrEqual(126); // the shortest encoding
    } else if (size === 127) {
      size = 0;
      for (let k = 0; k < 8; k++) size = size * 256 + wire[at + 2 + k]!;
      header = 10;
      expect(size).toBeGreaterThanOrEqual(65_536);
    }
    const mask = wire.subarray(at + header, at + header + 4);
    masks.push(mask.join(','));
    const start = at + header + 4;
    const payload = wire.slice(start, start + size);
    for (let i = 0; i < size; i++) payload[i]! ^= mask[i & 3]!;
    payloads.push(payload);
    at = start + size;
  }
  expect(at).toBe(wire.length);
  return { payloads, masks };
}

/**
 * A socket like Node's: a write it can take at once is copied (the system has it),
 * one it cannot is held by reference until the test lets it drain.
 */
class FakeSocket implements ByteSocket {
  readonly wire: Array<Uint8Array | { held: Uint8Array }> = [];
  full = false;
  writableLength = 0;
  write(data: Uint8Array, callback?: () => void): boolean {
    if (this.full || this.writableLength > 0) {
      this.wire.push({ held: data });
      this.writableLength += data.length;
    } else {
      this.wire.push(data.slice());
      callback?.();
    }
    return this.writableLength === 0;
  }
  /** Everything written, reading held writes as they are now (after the writer went on). */
  bytes(): Uint8Array {
    return Buffer.concat(this.wire.map((w) => (w instanceof Uint8Array ? w : w.held)));
  }
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

const sizes = fc.oneof(
  fc.integer({ min: 0, max: 3300 }),
  fc.constantFrom(125, 126, 127, 3200, 65_535, 65_536, 70_001),
);

describe('MaskedFrameWriter', () => {
  it.each([
    ['in JavaScript', undefined],
    ['with the addon', nativeMask()],
  ])(
    'writes frames a server reads back byte for byte, whatever the sizes, offsets, batches and stalls (%s)',
    (_, fastMask) => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              size: sizes,
              offset: fc.integer({ min: 0, max: 7 }),
              flushAfter: fc.boolean(),
              full: fc.boolean(),
            }),
            { minLength: 1, maxLength: 12 },
          ),
          fc.integer({ min: 1, max: 2 ** 31 }),
          (frames, seed) => {
            const socket = new FakeSocket();
            const writer = new MaskedFrameWriter(maskGenerator(), fastMask);
            const sent: Uint8Array[] = [];
            let x = seed;
            for (const { size, offset, flushAfter, full } of frames) {
              // A view at an odd place of a larger buffer, as a frame store hands out.
              const backing = new Uint8Array(size + 8);
              for (let i = 0; i < backing.length; i++) {
                x = (x * 1_103_515_245 + 12_345) >>> 0;
                backing[i] = x >>> 24;
              }
              const payload = backing.subarray(offset, offset + size);
              const before = payload.slice();
              writer.append(payload);
              expect(same(payload, before)).toBe(true); // only read
              sent.push(before);
              if (flushAfter) {
                socket.full = full;
                writer.flush(socket);
              }
            }
            writer.flush(socket);
            const { payloads } = parseFrames(socket.bytes());
            expect(payloads.length).toBe(sent.length);
            expect(payloads.every((p, i) => same(p, sent[i]!))).toBe(true);
            expect(writer.pending).toBe(0);
          },
        ),
        { numRuns: 200 },
      );
    },
  );

  it('reuses its buffer only once the socket has handed all of it on', () => {
    const socket = new FakeSocket();
    const writer = new MaskedFrameWriter(maskGenerator());
    const frame = (fill: number) => new Uint8Array(3200).fill(fill);
    writer.append(frame(1));
    writer.flush(socket); // taken at once: the buffer may be reused
    socket.full = true;
    writer.append(frame(2));
    writer.flush(socket); // held by reference
    socket.full = false;
    socket.writableLength = 0; // (a later write would queue behind it in a real socket; this one drained)
    writer.append(frame(3));
    writer.append(frame(4));
    writer.flush(socket);
    const { payloads } = parseFrames(socket.bytes());
    expect(payloads.map((p) => p[0])).toEqual([1, 2, 3, 4]);
    expect(payloads.every((p) => p.length === 3200 && p.every((b) => b === p[0]))).toBe(true);
  });

  it('runs the callbacks of a batch once its write has left, and drops what clear() drops', () => {
    const socket = new FakeSocket();
    const writer = new MaskedFrameWriter(maskGenerator());
    const order: string[] = [];
    writer.append(new Uint8Array(10), () => order.push('a'));
    writer.append(new Uint8Array(10));
    writer.append(new Uint8Array(10), () => order.push('b'));
    expect(order).toEqual([]);
    writer.flush(socket);
    expect(order).toEqual(['a', 'b']);
    writer.append(new Uint8Array(10), () => order.push('c'));
    writer.clear();
    writer.flush(socket);
    expect(order).toEqual(['a', 'b']);
    expect(parseFrames(socket.bytes()).payloads).toHaveLength(3);
  });

  it('masks each frame with a fresh mask from its generator', () => {
    const socket = new FakeSocket();
    const writer = new MaskedFrameWriter(maskGenerator());
    for (let i = 0; i < 200; i++) writer.append(new Uint8Array(32));
    writer.flush(socket);
    const { masks } = parseFrames(socket.bytes());
    expect(new Set(masks).size).toBeGreaterThan(195);
    expect(masks).not.toContain('0,0,0,0');
  });

  it.each([
    ['maskInto', maskInto],
    ['the bufferutil addon', nativeMask() ?? (() => expect.unreachable('the addon did not load'))],
  ])('%s masks every byte, word-wise and byte-wise, aligned or not', (_, mask) => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 4000 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 7 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        (bytes, sourceShift, outShift, maskBytes) => {
          // A view at an odd place of a larger buffer, as a frame store hands out.
          const source = new Uint8Array(bytes.length + 4).subarray(sourceShift, sourceShift + bytes.length);
          source.set(bytes);
          const out = new Uint8Array(bytes.length + 8);
          mask(source, maskBytes, out, outShift);
          const expected = bytes.map((b, i) => b ^ maskBytes[i & 3]!);
          expect(same(out.subarray(outShift, outShift + bytes.length), expected)).toBe(true);
        },
      ),
    );
  });
});

describe('nativeMask', () => {
  it('finds the bufferutil addon this package installs', () => {
    expect(nativeMask()).toBeTypeOf('function');
  });

  it("is off under WS_NO_BUFFER_UTIL, and never takes a mask that is not native (the addon's JavaScript fallback)", () => {
    const before = process.env.WS_NO_BUFFER_UTIL;
    process.env.WS_NO_BUFFER_UTIL = '1';
    try {
      expect(nativeMask()).toBeUndefined();
    } finally {
      if (before === undefined) delete process.env.WS_NO_BUFFER_UTIL;
      else process.env.WS_NO_BUFFER_UTIL = before;
    }
    expect(nativeMask(() => ({ mask: (a: Uint8Array) => a }))).toBeUndefined();
    expect(nativeMask(() => ({}))).toBeUndefined();
    expect(
      nativeMask(() => {
        throw new Error('Cannot find module bufferutil');
      }),
    ).toBeUndefined();
  });
});
