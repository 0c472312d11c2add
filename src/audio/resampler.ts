/** Options of {@link Resampler}. */
export interface ResamplerOptions {
  /**
   * Zero crossings of the sinc kernel on each side, at the lower of the two
   * rates: more is sharper and slower. Default 16 (about 75 dB of stop-band
   * attenuation with the Kaiser window used).
   */
  readonly zeroCrossings?: number;
  /** Cut-off as a fraction of the lower Nyquist frequency. Default 0.9. */
  readonly rolloff?: number;
}

/** Largest precomputed kernel table (phases x taps); odd ratios compute taps as they go. */
const MAX_TABLE = 1 << 16;
const KAISER_BETA = 8.6;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const half = x / 2;
  for (let k = 1; k < 50; k++) {
    term *= half / k;
    const squared = term * term;
    sum += squared;
    if (squared < sum * 1e-17) break;
  }
  return sum;
}

/**
 * A streaming band-limited resampler: a windowed-sinc (Kaiser) filter whose
 * cut-off sits below the lower of the two Nyquist frequencies, so nothing
 * above the target's Nyquist folds back as aliasing. State carries across
 * calls, positions are kept as exact integers (no drift over days of audio),
 * and `flush()` returns the filter's tail, so that N input samples always give
 * ceil(N * outRate / inRate) output samples, however the input was split.
 */
export class Resampler {
  /** Output steps through input positions i + p / up, p in [0, up). */
  private readonly up: number;
  private readonly down: number;
  /** Kernel half-width, in input samples. */
  private readonly halfWidth: number;
  private readonly cutoff: number;
  private readonly table: Float32Array | undefined;
  private buffer: Float32Array;
  /** Absolute input index of buffer[0]; starts negative: virtual zeros before the audio. */
  private bufferStart: number;
  private bufferLength: number;
  /** Next output's integer input position and phase. */
  private position = 0;
  private phase = 0;
  private inputCount = 0;
  private outputCount = 0;

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
    options: ResamplerOptions = {},
  ) {
    if (!(Number.isInteger(inputRate) && inputRate > 0 && Number.isInteger(outputRate) && outputRate > 0)) {
      throw new RangeError(`sample rates must be positive whole numbers, got ${inputRate} -> ${outputRate}`);
    }
    const divisor = gcd(inputRate, outputRate);
    this.up = outputRate / divisor;
    this.down = inputRate / divisor;
    const scale = Math.min(1, outputRate / inputRate);
    const crossings = options.zeroCrossings ?? 16;
    this.cutoff = 0.5 * scale * (options.rolloff ?? 0.9);
    this.halfWidth = Math.ceil(crossings / scale);
    const taps = 2 * this.halfWidth;
    if (this.up * taps <= MAX_TABLE) {
      this.table = new Float32Array(this.up * taps);
      for (let p = 0; p < this.up; p++) this.fillTaps(p, this.table.subarray(p * taps, (p + 1) * taps));
    }
    this.buffer = new Float32Array(Math.max(4096, taps * 4));
    this.bufferStart = -(this.halfWidth - 1);
    this.bufferLength = this.halfWidth - 1; // the virtual zeros before index 0
  }

  /** Input samples the output lags behind (the filter's half-width). */
  get latency(): number {
    return this.halfWidth;
  }

  /** Taps for phase p, normalised to unit gain at DC. */
  private fillTaps(phase: number, out: Float32Array): void {
    const frac = phase / this.up;
    let sum = 0;
    for (let j = 0; j < out.length; j++) {
      const distance = this.halfWidth - 1 - j + frac; // t - n, in input samples
      const x = distance / this.halfWidth;
      const window =
        Math.abs(x) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - x * x)) / besselI0(KAISER_BETA);
      const arg = 2 * this.cutoff * distance;
      const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
      const tap = 2 * this.cutoff * sinc * window;
      out[j] = tap;
      sum += tap;
    }
    for (let j = 0; j < out.length; j++) out[j] = out[j]! / sum;
  }

  private append(input: Float32Array): void {
    const needed = this.bufferLength + input.length;
    if (needed > this.buffer.length) {
      const grown = new Float32Array(Math.max(needed, this.buffer.length * 2));
      grown.set(this.buffer.subarray(0, this.bufferLength));
      this.buffer = grown;
    }
    this.buffer.set(input, this.bufferLength);
    this.bufferLength += input.length;
  }

  /** Produces every output whose taps lie before `limit` (absolute input index), up to `maxOutputs`. */
  private produce(limit: number, maxOutputs: number): Float32Array {
    const taps = 2 * this.halfWidth;
    // The last tap of an output at position i reads input i + halfWidth, which must be < limit.
    const count = Math.max(0, Math.min(maxOutputs, this.countUpTo(limit - 1 - this.halfWidth)));
    const out = new Float32Array(count);
    const scratch = this.table === undefined ? new Float32Array(taps) : undefined;
    for (let k = 0; k < count; k++) {
      const first = this.position - this.halfWidth + 1 - this.bufferStart;
      const kernel =
        this.table !== undefined
          ? this.table.subarray(this.phase * taps, this.phase * taps + taps)
          : scratch!;
      if (this.table === undefined) this.fillTaps(this.phase, kernel);
      let acc = 0;
      for (let j = 0; j < taps; j++) acc += this.buffer[first + j]! * kernel[j]!;
      out[k] = acc;
      this.phase += this.down;
      this.position += Math.floor(this.phase / this.up);
      this.phase %= this.up;
    }
    this.outputCount += count;
    // Drop input no future output needs.
    const keepFrom = this.position - this.halfWidth + 1 - this.bufferStart;
    if (keepFrom > 0) {
      this.buffer.copyWithin(0, keepFrom, this.bufferLength);
      this.bufferLength -= keepFrom;
      this.bufferStart += keepFrom;
    }
    return out;
  }

  /** How many outputs, from the next one on, have an integer position <= maxPosition. */
  private countUpTo(maxPosition: number): number {
    if (maxPosition < this.position) return 0;
    // Output k sits at position + floor((phase + k * down) / up); that is <= maxPosition
    // exactly when phase + k * down < (maxPosition - position + 1) * up.
    const span = (maxPosition - this.position + 1) * this.up - this.phase;
    return Math.ceil(span / this.down);
  }

  /** Resamples the next piece of mono audio; may return fewer samples than later, never loses any. */
  process(input: Float32Array): Float32Array {
    this.append(input);
    this.inputCount += input.length;
    return this.produce(this.bufferStart + this.bufferLength, Number.POSITIVE_INFINITY);
  }

  /** Ends the stream: returns the remaining output (the filter's tail, against silence). */
  flush(): Float32Array {
    const total = Math.ceil((this.inputCount * this.up) / this.down);
    this.append(new Float32Array(this.halfWidth));
    return this.produce(this.bufferStart + this.bufferLength, total - this.outputCount);
  }
}
