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
