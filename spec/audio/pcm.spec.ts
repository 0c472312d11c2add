import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AudioFormat, Samples } from '../../src/audio/audio-format.js';
import { decodePcmBytes, encodePcmBytes, PcmByteDecoder } from '../../src/audio/pcm-bytes.js';
import { downmixInt16, downmixToFloat, floatToInt16, int16ToFloat } from '../../src/audio/pcm-convert.js';

/** The bytes of `samples`, copied (so later changes to either side do not show). */
function bytesOf(samples: Samples): number[] {
  return Array.from(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
}

/** Cuts `bytes` at `cuts` (any positions, repeats allowed: they give empty chunks). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(offset, point));
    offset = point;
  }
  return chunks;
}

describe('decodePcmBytes and encodePcmBytes', () => {
  it('decodes little-endian 16-bit and 32-bit float samples', () => {
    const s16 = decodePcmBytes(new Uint8Array([0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f]), 'pcm_s16le');
    expect(s16).toBeInstanceOf(Int16Array);
    expect(Array.from(s16)).toEqual([1, -1, -32768, 32767]);
    const f32 = decodePcmBytes(new Uint8Array([0, 0, 0x80, 0x3f, 0, 0, 0, 0xbf]), 'pcm_f32le');
    expect(f32).toBeInstanceOf(Float32Array);
    expect(Array.from(f32)).toEqual([1, -0.5]);
  });

  it('ignores a trailing partial sample', () => {
    expect(Array.from(decodePcmBytes(new Uint8Array([1, 0, 2]), 'pcm_s16le'))).toEqual([1]);
    expect(decodePcmBytes(new Uint8Array([0, 0, 0x80]), 'pcm_f32le')).toHaveLength(0);
  });

  it('decodes a view at an odd offset, into samples that do not share the input bytes', () => {
    const backing = new Uint8Array([9, 0, 0, 0x80, 0x3f, 0, 0, 0x80, 0xbf]);
    const view = backing.subarray(1);
    const samples = decodePcmBytes(view, 'pcm_f32le');
    expect(Array.from(samples)).toEqual([1, -1]);
    backing.fill(0);
    expect(Array.from(samples)).toEqual([1, -1]);
  });

  // Known bug: `bytes.slice(0, n).buffer` assumes slice copies. Buffer#slice is a view, so for a
  // Node Buffer (what every Node stream hands out) this is the whole backing ArrayBuffer: the
  // 8 KiB pool for small Buffers (4096 samples of unrelated memory), extra samples past the view,
  // or a RangeError when the backing store has an odd length. Flip to it() when fixed.
  it('decodes a Node Buffer into exactly its own samples', () => {
    expect(Array.from(decodePcmBytes(Buffer.from([1, 0, 2, 0]), 'pcm_s16le'))).toEqual([1, 2]);
  });

  it('decodes a Node Buffer view of a larger buffer into exactly its own samples', () => {
    const backing = Buffer.alloc(10);
    backing.writeInt16LE(7, 0);
    backing.writeInt16LE(8, 2);
    expect(Array.from(decodePcmBytes(backing.subarray(0, 5), 'pcm_s16le'))).toEqual([7, 8]);
  });

  it('encodes samples back to the bytes they were decoded from', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('pcm_s16le' as const, 'pcm_f32le' as const),
        fc.uint8Array({ maxLength: 64 }),
        (encoding, raw) => {
          const size = encoding === 'pcm_s16le' ? 2 : 4;
          const bytes = raw.subarray(0, raw.length - (raw.length % size));
          expect(Array.from(encodePcmBytes(decodePcmBytes(bytes, encoding)))).toEqual(Array.from(bytes));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('encodes only the samples of a view, not the whole buffer behind it', () => {
    const all = new Int16Array([1, 2, 3, 4]);
    expect(Array.from(encodePcmBytes(all.subarray(1, 3)))).toEqual([2, 0, 3, 0]);
  });
});

describe('PcmByteDecoder', () => {
  it('yields exactly the samples of the whole, for any split of whole frames, holding nothing at the end', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('pcm_s16le' as const, 'pcm_f32le' as const),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 40 }),
        fc.uint8Array({ minLength: 480, maxLength: 480 }),
        fc.array(fc.nat(), { maxLength: 16 }),
        fc.boolean(),
        (encoding, channels, frames, pool, cuts, immutableInput) => {
          const format: AudioFormat = { sampleRate: 16000, channels, encoding };
          const frameBytes = (encoding === 'pcm_s16le' ? 2 : 4) * channels;
          const bytes = pool.subarray(0, frames * frameBytes);
          // Views or copies, the samples are the same.
          const decoder = new PcmByteDecoder(format, { immutableInput });
          const got: number[] = [];
          for (const chunk of split(bytes, cuts)) {
            const before = decoder.pendingBytes;
            const samples = decoder.push(chunk);
            if (samples === undefined) {
              // Nothing yet: what came is held back, and it is less than a frame.
              expect(decoder.pendingBytes).toBe(before + chunk.length);
              expect(decoder.pendingBytes).toBeLessThan(frameBytes);
            } else {
              expect(samples).toBeInstanceOf(encoding === 'pcm_s16le' ? Int16Array : Float32Array);
              expect(samples.length % channels).toBe(0);
              expect(samples.length).toBeGreaterThan(0);
              got.push(...bytesOf(samples));
            }
            expect(decoder.pendingBytes).toBeLessThan(frameBytes);
          }
          // Compare bytes, not values: float NaNs must come through bit for bit too.
          expect(got).toEqual(bytesOf(decodePcmBytes(bytes, encoding)));
          expect(got).toEqual(Array.from(bytes));
          expect(decoder.pendingBytes).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('joins a frame split across chunks instead of dropping or misaligning it', () => {
    const decoder = new PcmByteDecoder({ sampleRate: 8000, channels: 2, encoding: 'pcm_s16le' });
    expect(decoder.push(new Uint8Array([1, 0, 2]))).toBeUndefined();
    expect(decoder.pendingBytes).toBe(3);
    expect(Array.from(decoder.push(new Uint8Array([0, 3, 0, 4, 0, 5]))!)).toEqual([1, 2, 3, 4]);
    expect(decoder.pendingBytes).toBe(1);
    expect(Array.from(decoder.push(new Uint8Array([0, 6, 0]))!)).toEqual([5, 6]);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('hands out views of bytes that are never written again (immutableInput), copies otherwise', () => {
    const format: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
    const bytes = new Uint8Array([1, 0, 2, 0, 3, 0, 4, 0, 5]);
    const viewed = new PcmByteDecoder(format, { immutableInput: true }).push(bytes.subarray(2))!;
    expect(viewed.buffer).toBe(bytes.buffer);
    expect(Array.from(viewed)).toEqual([2, 3, 4]);
    // At an odd offset no Int16Array view is possible: a copy, with the same samples.
    const odd = new PcmByteDecoder(format, { immutableInput: true }).push(bytes.subarray(1))!;
    expect(odd.buffer).not.toBe(bytes.buffer);
    expect(Array.from(odd)).toEqual([512, 768, 1024, 1280]);
    const copied = new PcmByteDecoder(format).push(bytes.subarray(2))!;
    expect(copied.buffer).not.toBe(bytes.buffer);
    bytes.fill(0);
    expect(Array.from(copied)).toEqual([2, 3, 4]);
  });

  it('keeps its own copy of held-back bytes when the caller reuses its buffer', () => {
    const decoder = new PcmByteDecoder({ sampleRate: 8000, channels: 1, encoding: 'pcm_f32le' });
    const buffer = new Uint8Array([0, 0, 0x80]);
    expect(decoder.push(buffer)).toBeUndefined();
    buffer.fill(0xff);
    expect(Array.from(decoder.push(new Uint8Array([0x3f]))!)).toEqual([1]);
  });

  // Known bug: the carry is `input.slice(whole)`, a view (not a copy) when the input is a Node
  // Buffer, so a caller that reuses its Buffer changes the held-back bytes. Flip to it() when fixed.
  it('keeps its own copy of held-back bytes from a reused Node Buffer', () => {
    const decoder = new PcmByteDecoder({ sampleRate: 8000, channels: 1, encoding: 'pcm_s16le' });
    const buffer = Buffer.from(new Uint8Array([1, 0, 5, 0]).buffer, 0, 3);
    decoder.push(buffer);
    buffer[2] = 9;
    expect(Array.from(decoder.push(new Uint8Array([0]))!)).toEqual([5]);
  });
});

describe('floatToInt16', () => {
  it('maps -1 to -32768, +1 to 32767 and rounds in between', () => {
    const out = floatToInt16(
      new Float32Array([-1, 1, 0, -0, 0.5, -0.5, 1 / 32767, -1 / 32768, 0.25 / 32767]),
    );
    expect(Array.from(out)).toEqual([-32768, 32767, 0, 0, 16384, -16384, 1, -1, 0]);
  });

  it('clips values beyond full scale, and maps NaN to 0 and infinities to the ends', () => {
    const out = floatToInt16(
      new Float32Array([1.0001, 2, 1e30, -1.0001, -2, -1e30, Number.NaN, Infinity, -Infinity]),
    );
    expect(Array.from(out)).toEqual([32767, 32767, 32767, -32768, -32768, -32768, 0, 32767, -32768]);
  });

  it('stays within one step of the scaled value for any float in [-1, 1]', () => {
    fc.assert(
      fc.property(fc.float({ min: -1, max: 1, noNaN: true }), (x) => {
        const [y] = floatToInt16(new Float32Array([x]));
        expect(Math.abs(y! - (x < 0 ? x * 32768 : x * 32767))).toBeLessThanOrEqual(0.5);
      }),
      { numRuns: 100 },
    );
  });
});

describe('int16ToFloat', () => {
  it('maps the ends of the range to -1 and +1', () => {
    expect(Array.from(int16ToFloat(new Int16Array([-32768, 0, 32767])))).toEqual([-1, 0, 1]);
  });

  it('round-trips every 16-bit value exactly through float and back', () => {
    const all = new Int16Array(65536);
    for (let i = 0; i < all.length; i++) all[i] = i - 32768;
    const floats = int16ToFloat(all);
    expect(floats.every((x) => x >= -1 && x <= 1)).toBe(true);
    const back = floatToInt16(floats);
    let mismatches = 0;
    for (let i = 0; i < all.length; i++) if (back[i] !== all[i]) mismatches++;
    expect(mismatches).toBe(0);
  });
});

describe('downmixToFloat', () => {
  it('averages the channels of each frame', () => {
    const stereo = new Float32Array([0.5, 0.25, 1, -1, -0.5, -0.25]);
    expect(Array.from(downmixToFloat(stereo, 2))).toEqual([0.375, 0, -0.375]);
    const three = new Float32Array([0.75, 0.5, 0.25, 0, 0, 0.75]);
    expect(Array.from(downmixToFloat(three, 3))).toEqual([0.5, 0.25]);
  });

  it('converts 16-bit input to floats before averaging', () => {
    const out = downmixToFloat(new Int16Array([32767, -32768, 16384, 16384, 0, -16384]), 2);
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual([0, Math.fround(16384 / 32767), -0.25]);
  });

  it('is the mean of the channels for any interleaved input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 40 }),
        (channels, values) => {
          const input = new Int16Array(values.slice(0, values.length - (values.length % channels)));
          const out = downmixToFloat(input, channels);
          expect(out).toHaveLength(input.length / channels);
          for (let f = 0; f < out.length; f++) {
            let sum = 0;
            for (let c = 0; c < channels; c++) {
              const x = input[f * channels + c]!;
              sum += x < 0 ? x / 32768 : x / 32767;
            }
            expect(out[f]).toBeCloseTo(sum / channels, 6);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gives mono float input back as a copy, not the caller array', () => {
    const mono = new Float32Array([0.1, -0.2]);
    const out = downmixToFloat(mono, 1);
    expect(Array.from(out)).toEqual(Array.from(mono));
    mono[0] = 0.9;
    expect(out[0]).toBe(Math.fround(0.1));
  });
});

describe('downmixInt16', () => {
  it('averages the channels of each frame, rounding to the nearest integer', () => {
    expect(Array.from(downmixInt16(new Int16Array([100, 200, 100, 201, -100, -300]), 2))).toEqual([
      150, 151, -200,
    ]);
    expect(Array.from(downmixInt16(new Int16Array([1, 2, 4, 30, 30, 31]), 3))).toEqual([2, 30]);
  });

  it('cannot overflow at full scale', () => {
    expect(
      Array.from(downmixInt16(new Int16Array([32767, 32767, -32768, -32768, 32767, -32768]), 2)),
    ).toEqual([32767, -32768, 0]);
  });

  it('passes mono through unchanged', () => {
    expect(Array.from(downmixInt16(new Int16Array([5, -7, 9]), 1))).toEqual([5, -7, 9]);
  });

  it('is the rounded mean of the channels for any interleaved input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 40 }),
        (channels, values) => {
          const input = new Int16Array(values.slice(0, values.length - (values.length % channels)));
          const out = downmixInt16(input, channels);
          expect(out).toHaveLength(input.length / channels);
          for (let f = 0; f < out.length; f++) {
            let sum = 0;
            for (let c = 0; c < channels; c++) sum += input[f * channels + c]!;
            expect(Math.abs(out[f]! - sum / channels)).toBeLessThanOrEqual(0.5);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
