import { Resampler, type ResamplerOptions } from '../audio/resampler.js';

/**
 * The capture filter: the Node resampler's, sharper (twice its zero crossings,
 * a cut-off at 95% of the lower Nyquist rather than 90%). A browser has
 * usually resampled once already (a 16 kHz device to a 44.1 or 48 kHz
 * context), and two 90% filters in a row cost PocketSphinx words on the
 * LibriVox files; this one keeps them, and its stop band still begins below
 * the lower Nyquist frequency's alias of the recogniser's band.
 */
export const CAPTURE_RESAMPLER: ResamplerOptions = { zeroCrossings: 32, rolloff: 0.95 };

/** Options of {@link MicrophoneFramer}. */
export interface MicrophoneFramerOptions {
  /** The rate of the audio pushed in (the AudioContext's). */
  readonly inputRate: number;
  /** The rate of the frames out (the protocol's). */
  readonly outputRate: number;
  /** Samples in each frame out. */
  readonly frameSamples: number;
}

/** The loudness of one frame, from 0 (silence) to 1 (full scale). */
export interface FrameLevel {
  /** The largest absolute sample. */
  readonly peak: number;
  /** The root mean square of the samples. */
  readonly rms: number;
}

/**
 * What the capture worklet runs for each render quantum: channels to mono (the
 * mean), the band-limited {@link Resampler} from the context's rate to the
 * protocol's, floats to 16-bit (as `floatToInt16`: clipped, rounded, -1 to
 * -32768 and +1 to 32767), cut into frames of `frameSamples`. Each full frame
 * goes to `emit` as a fresh Int16Array that the callee owns (the worklet
 * transfers its buffer). Plain code, no worklet globals, so it runs in Node's
 * tests as it runs on the audio thread.
 */
export class MicrophoneFramer {
  private readonly resampler: Resampler | undefined;
  private readonly frameSamples: number;
  private frame: Int16Array;
  private filled = 0;
  private peak = 0;
  private squares = 0;
  private scratch = new Float32Array(128);
  /** Sample frames pushed in, at the input rate. */
  inputFrames = 0;
  /** Samples emitted, at the output rate. */
  outputSamples = 0;

  constructor(
    options: MicrophoneFramerOptions,
    private readonly emit: (frame: Int16Array, level: FrameLevel) => void,
  ) {
    if (!(Number.isInteger(options.frameSamples) && options.frameSamples > 0)) {
      throw new RangeError(`frameSamples must be a positive whole number, got ${options.frameSamples}`);
    }
    this.frameSamples = options.frameSamples;
    // Same rates: nothing to filter, so the samples pass as they are.
    this.resampler =
      options.inputRate === options.outputRate
        ? undefined
        : new Resampler(options.inputRate, options.outputRate, CAPTURE_RESAMPLER);
    this.frame = new Int16Array(this.frameSamples);
  }

  /** Takes one render quantum: a Float32Array per channel, all of one length (none: nothing). */
  push(channels: ReadonlyArray<Float32Array>): void {
    const first = channels[0];
    if (first === undefined || first.length === 0) return;
    this.inputFrames += first.length;
    const mono = channels.length === 1 ? first : this.downmix(channels, first.length);
    this.write(this.resampler === undefined ? mono : this.resampler.process(mono));
  }

  /** Ends the stream: the resampler's tail, then the last (short) frame, if any. */
  flush(): void {
    if (this.resampler !== undefined) this.write(this.resampler.flush());
    if (this.filled > 0) this.emitFrame(this.frame.slice(0, this.filled));
  }

  private downmix(channels: ReadonlyArray<Float32Array>, length: number): Float32Array {
    if (this.scratch.length < length) this.scratch = new Float32Array(length);
    const out = this.scratch.subarray(0, length);
    out.fill(0);
    for (const channel of channels) for (let i = 0; i < length; i++) out[i]! += channel[i]!;
    const scale = 1 / channels.length;
    for (let i = 0; i < length; i++) out[i]! *= scale;
    return out;
  }

  private write(samples: Float32Array): void {
    const size = this.frameSamples;
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i]!;
      const scaled = x < 0 ? x * 32768 : x * 32767;
      this.frame[this.filled++] =
        scaled >= 32767 ? 32767 : scaled <= -32768 ? -32768 : Number.isNaN(scaled) ? 0 : Math.round(scaled);
      const magnitude = Math.abs(x);
      if (magnitude > this.peak) this.peak = magnitude;
      if (!Number.isNaN(x)) this.squares += x * x; // NaN is sent as silence: counted as such
      if (this.filled === size) {
        const full = this.frame;
        this.frame = new Int16Array(size); // the full one is transferred away
        this.emitFrame(full);
      }
    }
  }

  private emitFrame(frame: Int16Array): void {
    const level: FrameLevel = {
      peak: Math.min(1, this.peak),
      rms: Math.min(1, Math.sqrt(this.squares / frame.length)),
    };
    this.outputSamples += frame.length;
    this.filled = 0;
    this.peak = 0;
    this.squares = 0;
    this.emit(frame, level);
  }
}
