import type { Samples } from './audio-format.js';

/** Float samples in [-1, 1] to 16-bit, clipping what lies outside (and NaN to 0). */
export function floatToInt16(input: Float32Array): Int16Array {
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const x = input[i]!;
    // Asymmetric scale: -1 maps to -32768 and +1 to 32767, so both ends are reachable.
    const scaled = x < 0 ? x * 32768 : x * 32767;
    out[i] =
      scaled >= 32767 ? 32767 : scaled <= -32768 ? -32768 : Number.isNaN(scaled) ? 0 : Math.round(scaled);
  }
  return out;
}

/** 16-bit samples to floats in [-1, 1] (-32768 to -1, 32767 to 1). */
export function int16ToFloat(input: Int16Array): Float32Array {
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const x = input[i]!;
    out[i] = x < 0 ? x / 32768 : x / 32767;
  }
  return out;
}

/** Interleaved samples to floats of one channel, the mean of all channels. */
export function downmixToFloat(input: Samples, channels: number): Float32Array {
  const asFloat = input instanceof Int16Array ? int16ToFloat(input) : input;
  if (channels === 1) return asFloat === input ? asFloat.slice() : asFloat;
  const frames = asFloat.length / channels;
  const out = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += asFloat[f * channels + c]!;
    out[f] = sum / channels;
  }
  return out;
}

/** Interleaved 16-bit samples to one channel, the mean of all channels, rounded. */
export function downmixInt16(input: Int16Array, channels: number): Int16Array {
  if (channels === 1) return input;
  const frames = input.length / channels;
  const out = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += input[f * channels + c]!;
    out[f] = Math.round(sum / channels);
  }
  return out;
}
