import { badAudio } from '../errors/transcription-error.js';

/** How samples are stored: 16-bit signed integers or 32-bit floats, little-endian. */
export type SampleEncoding = 'pcm_s16le' | 'pcm_f32le';

/** The shape of a stream of audio. */
export interface AudioFormat {
  /** Sample frames per second (one sample per channel in a frame). */
  readonly sampleRate: number;
  readonly channels: number;
  readonly encoding: SampleEncoding;
}

/** Samples travel as typed arrays, never `number[]`; channels are interleaved. */
export type Samples = Int16Array | Float32Array;

/**
 * A piece of audio: whole sample frames in one format.
 *
 * Once emitted, a chunk's samples belong to the pipeline: do not write to
 * them again (as with a Node stream's `write(chunk)`). Flow control holds
 * chunks until they can be sent, and a chunk that is already one frame is
 * held as it is, not copied. A source that reuses one buffer (an audio
 * callback's) must emit a copy.
 */
export interface AudioChunk {
  readonly format: AudioFormat;
  readonly samples: Samples;
}

/** A chunk cut to a fixed duration by `frames()`, knowing where it sits in the stream. */
export interface AudioFrame extends AudioChunk {
  /** Index of the frame's first sample frame, counted from the start of the stream. */
  readonly offset: number;
}

/** 16 kHz mono 16-bit: what most speech servers want. */
export const PCM16_16K_MONO: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };

/** Bytes per sample (one channel). */
export function bytesPerSample(encoding: SampleEncoding): number {
  return encoding === 'pcm_s16le' ? 2 : 4;
}

/** What a source reads before it knows the format (a WAV header fits, usually with some audio). */
export const HEADER_READ_BYTES = 4096;

/** Bytes of whole sample frames holding `ms` of audio in `format` (at least one frame). */
export function bytesForMs(format: AudioFormat, ms: number): number {
  const frameBytes = bytesPerSample(format.encoding) * format.channels;
  return Math.max(1, Math.ceil((ms * format.sampleRate) / 1000)) * frameBytes;
}

/** Sample frames in a chunk. */
export function frameCount(chunk: AudioChunk): number {
  return chunk.samples.length / chunk.format.channels;
}

/** Milliseconds of audio in `frames` sample frames at `sampleRate`. */
export function framesToMs(frames: number, sampleRate: number): number {
  return (frames * 1000) / sampleRate;
}

/** "16000 Hz mono pcm_s16le". */
export function describeFormat(format: AudioFormat): string {
  const channels =
    format.channels === 1 ? 'mono' : format.channels === 2 ? 'stereo' : `${format.channels}-channel`;
  return `${format.sampleRate} Hz ${channels} ${format.encoding}`;
}

export function sameFormat(a: AudioFormat, b: AudioFormat): boolean {
  return a.sampleRate === b.sampleRate && a.channels === b.channels && a.encoding === b.encoding;
}

/** Throws a bad-audio error naming what is wrong with a format. */
export function assertFormat(format: AudioFormat, where = 'audio format'): void {
  if (!Number.isInteger(format.sampleRate) || format.sampleRate < 1000 || format.sampleRate > 768000) {
    throw badAudio(
      `${where}: sample rate must be a whole number of Hz from 1000 to 768000, got ${format.sampleRate}`,
    );
  }
  if (!Number.isInteger(format.channels) || format.channels < 1 || format.channels > 64) {
    throw badAudio(`${where}: channels must be a whole number from 1 to 64, got ${format.channels}`);
  }
  if (format.encoding !== 'pcm_s16le' && format.encoding !== 'pcm_f32le') {
    throw badAudio(`${where}: encoding must be 'pcm_s16le' or 'pcm_f32le', got ${String(format.encoding)}`);
  }
}

/** A value as an error message names it: what it is, not all of it. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string')
    return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)})`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `the ${typeof value} ${String(value)}`;
  }
  if (typeof value !== 'object') return `a ${typeof value}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  if (value instanceof ArrayBuffer) return `an ArrayBuffer of ${value.byteLength} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const keys = Object.keys(value).slice(0, 5);
  return keys.length === 0 ? 'an empty object' : `an object with ${keys.join(', ')}`;
}

/**
 * Throws a bad-audio error unless `value` is an AudioChunk whose samples fit
 * its format (the typed array of its encoding, whole sample frames).
 */
export function assertAudioChunk(value: unknown, where: string): asserts value is AudioChunk {
  const chunk = value as Partial<AudioChunk> | null | undefined;
  if (
    typeof chunk !== 'object' ||
    chunk === null ||
    typeof chunk.format !== 'object' ||
    chunk.format === null
  ) {
    const hint =
      ArrayBuffer.isView(value) || value instanceof ArrayBuffer
        ? ' (bytes: decode them with decodePcm(format), or use a source such as fromReadable)'
        : '';
    throw badAudio(
      `${where}: expected an AudioChunk ({ format, samples }), got ${describeValue(value)}${hint}`,
    );
  }
  const { format, samples } = chunk;
  const isInt16 = samples instanceof Int16Array;
  if (!isInt16 && !(samples instanceof Float32Array)) {
    throw badAudio(
      `${where}: an AudioChunk's samples must be an Int16Array or a Float32Array, got ${describeValue(samples)}`,
    );
  }
  if (isInt16 !== (format.encoding === 'pcm_s16le')) {
    throw badAudio(
      `${where}: an AudioChunk of ${String(format.encoding)} holds ${isInt16 ? 'an Int16Array' : 'a Float32Array'}; pcm_s16le takes Int16Array and pcm_f32le Float32Array`,
    );
  }
  if (!Number.isInteger(format.channels) || format.channels < 1 || samples.length % format.channels !== 0) {
    throw badAudio(
      `${where}: an AudioChunk of ${samples.length} samples is not whole sample frames of ${String(format.channels)} channels`,
    );
  }
}
