import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Resampler } from '../../src/audio/resampler.js';

const RATES = [8000, 11025, 16000, 22050, 44100, 48000, 44101] as const;
/** Output samples at each end left out of measurements: the filter's run-in and run-out against silence. */
const EDGE = 1000;

function sine(frequency: number, rate: number, length: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * frequency * i) / rate);
  return out;
}

/** Deterministic noise in [-1, 1). */
function noise(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Resamples `input` cut at `cuts` (sorted, repeats allowed), then flushes. */
function resample(
  inputRate: number,
  outputRate: number,
  input: Float32Array,
  cuts: number[] = [],
): Float32Array {
  const resampler = new Resampler(inputRate, outputRate);
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const cut of [...cuts, input.length]) {
    parts.push(resampler.process(input.subarray(offset, cut)));
    offset = cut;
  }
  parts.push(resampler.flush());
  return concat(parts);
}

function rms(samples: Float32Array): number {
  let sum = 0;
  for (const x of samples) sum += x * x;
  return Math.sqrt(sum / samples.length);
}

function db(ratio: number): number {
  return 20 * Math.log10(ratio);
}

function middle(samples: Float32Array): Float32Array {
  return samples.subarray(EDGE, samples.length - EDGE);
}

/** Amplitude of the `frequency` component, from its correlation with a Hann-windowed sine/cosine pair. */
function amplitudeAt(samples: Float32Array, frequency: number, rate: number): number {
  let sin = 0;
  let cos = 0;
  let weight = 0;
  const n = samples.length;
  for (let i = 0; i < n; i++) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const phase = (2 * Math.PI * frequency * i) / rate;
    sin += hann * samples[i]! * Math.sin(phase);
    cos += hann * samples[i]! * Math.cos(phase);
    weight += hann;
  }
  return (2 * Math.hypot(sin, cos)) / weight;
}

/** How far down (dB, negative) the output's middle is relative to the input: total power, all frequencies. */
function levelDb(input: Float32Array, output: Float32Array): number {
  return db(rms(middle(output)) / rms(input));
}

/** The naive resampler the filter must beat: pick the nearest input sample, no filtering. */
function pickNearest(input: Float32Array, inputRate: number, outputRate: number): Float32Array {
  const out = new Float32Array(Math.ceil((input.length * outputRate) / inputRate));
  for (let k = 0; k < out.length; k++) {
    out[k] = input[Math.min(input.length - 1, Math.round((k * inputRate) / outputRate))]!;
  }
  return out;
}

describe('Resampler', () => {
  it('gives ceil(N * out / in) samples, bit-identical however the input is split', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...RATES),
        fc.constantFrom(...RATES),
        fc.integer({ min: 0, max: 2000 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.nat(),
        (inputRate, outputRate, length, rawCuts, seed) => {
          const input = noise(length, seed);
          const cuts = rawCuts.map((c) => c % (length + 1)).sort((a, b) => a - b);
          const whole = resample(inputRate, outputRate, input);
          const pieces = resample(inputRate, outputRate, input, cuts);
          expect(whole).toHaveLength(Math.ceil((length * outputRate) / inputRate));
          expect(pieces).toHaveLength(whole.length);
          expect(Buffer.from(pieces.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('gives the exact count for lengths that are not whole periods of the ratio, one sample at a time', () => {
    for (const [inputRate, outputRate, length] of [
      [48000, 16000, 1],
      [48000, 16000, 4],
      [44100, 16000, 441],
      [8000, 44101, 3],
      [16000, 48000, 7],
    ] as const) {
      const input = noise(length, length);
      const cuts = Array.from({ length }, (_, i) => i);
      const out = resample(inputRate, outputRate, input, cuts);
      expect(out).toHaveLength(Math.ceil((length * outputRate) / inputRate));
      expect(Array.from(out)).toEqual(Array.from(resample(inputRate, outputRate, input)));
    }
  });

  it('gives nothing for no input', () => {
    const resampler = new Resampler(44100, 16000);
    expect(resampler.process(new Float32Array(0))).toHaveLength(0);
    expect(resampler.flush()).toHaveLength(0);
  });

  it('keeps unit gain at DC', () => {
    const out = middle(resample(44100, 16000, new Float32Array(44100).fill(0.5)));
    for (const x of out) expect(x).toBeCloseTo(0.5, 4);
  });

  for (const inputRate of [48000, 44100, 8000, 22050]) {
    it(`passes a 1 kHz tone at 0.5 from ${inputRate} Hz to 16000 Hz within 0.1 dB`, () => {
      const input = sine(1000, inputRate, inputRate / 2);
      const output = resample(inputRate, 16000, input, [1234, 5000, 5001]);
      expect(output.length).toBeGreaterThan(4 * EDGE);
      expect(Math.abs(levelDb(input, output))).toBeLessThan(0.1);
    });
  }

  for (const inputRate of [48000, 44100]) {
    it(`removes an 8800 Hz tone (which would alias to 7200 Hz) from ${inputRate} Hz to 16000 Hz, by 60 dB`, () => {
      const input = sine(8800, inputRate, inputRate / 2);
      expect(levelDb(input, resample(inputRate, 16000, input))).toBeLessThan(-60);
    });
  }

  it('measures aliasing that is there: picking every 3rd sample of the 8800 Hz tone keeps it all', () => {
    const input = sine(8800, 48000, 24000);
    const every3rd = input.filter((_, i) => i % 3 === 0);
    const dropped = levelDb(input, every3rd);
    expect(dropped).toBeGreaterThan(-1);
    expect(dropped < -60).toBe(false);
    // The folded tone sits at 16000 - 8800 = 7200 Hz, in the band the filter must keep clean.
    expect(amplitudeAt(middle(every3rd), 7200, 16000)).toBeGreaterThan(0.45);
    expect(amplitudeAt(middle(resample(48000, 16000, input)), 7200, 16000)).toBeLessThan(0.0005);
    const nearest = pickNearest(sine(8800, 44100, 22050), 44100, 16000);
    expect(levelDb(sine(8800, 44100, 22050), nearest)).toBeGreaterThan(-1);
  });

  it('adds no image at 5000 Hz when upsampling a 3000 Hz tone from 8000 to 16000 Hz (60 dB down)', () => {
    const output = middle(resample(8000, 16000, sine(3000, 8000, 8000), [999, 4000]));
    const tone = amplitudeAt(output, 3000, 16000);
    const image = amplitudeAt(output, 5000, 16000);
    expect(db(tone / 0.5)).toBeGreaterThan(-1);
    expect(db(image / tone)).toBeLessThan(-60);
  });

  it('measures images that are there: linear interpolation leaves one at 5000 Hz', () => {
    const input = sine(3000, 8000, 8000);
    const linear = new Float32Array(2 * input.length);
    for (let i = 0; i < input.length; i++) {
      linear[2 * i] = input[i]!;
      linear[2 * i + 1] = (input[i]! + (input[i + 1] ?? 0)) / 2;
    }
    const output = middle(linear);
    expect(db(amplitudeAt(output, 5000, 16000) / amplitudeAt(output, 3000, 16000))).toBeGreaterThan(-20);
  });

  it('throws a RangeError for rates that are not positive whole numbers', () => {
    for (const bad of [0, -16000, 16000.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new Resampler(bad, 16000)).toThrow(RangeError);
      expect(() => new Resampler(16000, bad)).toThrow(RangeError);
    }
    expect(() => new Resampler(1, 1)).not.toThrow();
  });
});
