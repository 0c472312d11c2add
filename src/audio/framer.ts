import { badAudio } from '../errors/transcription-error.js';
import { type AudioChunk, type AudioFormat, describeFormat, sameFormat } from './audio-format.js';
import { SampleRing } from './sample-ring.js';

/** Where a {@link Framer} puts its frames (an RxJS Subscriber is one). */
export interface FrameSink {
  next(frame: AudioChunk): void;
  /** True once the sink takes no more: a chunk being cut stops there. */
  readonly closed: boolean;
}

/** Sample frames in one frame of `durationMs` at `format`'s rate (at least one). */
export function samplesPerFrame(format: AudioFormat, durationMs: number): number {
  return Math.max(1, Math.round((durationMs * format.sampleRate) / 1000));
}

/**
 * Cuts chunks of any size into frames of one duration, in order, every
 * sample once: the state behind `frames`, kept as a plain object so that a
 * session can run it inline. The whole frames inside a chunk go on as views
 * of its samples, not copies (a chunk's samples are the pipeline's once
 * emitted: see {@link AudioChunk}); a chunk that is exactly one frame, with
 * nothing held, goes on as it is. Only a frame that spans two chunks is
 * copied, from the few samples held between them.
 */
export class Framer {
  private format: AudioFormat | undefined;
  /** Samples held between chunks: fewer than one frame. */
  private ring: SampleRing<Int16Array | Float32Array> | undefined;
  /** Samples (all channels) per frame. */
  private frameLength = 0;

  constructor(private readonly durationMs: number) {}

  /** Throws a bad-audio TranscriptionError if the format changes mid-stream. */
  push(chunk: AudioChunk, sink: FrameSink): void {
    let format = this.format;
    if (format === undefined) {
      format = this.format = chunk.format;
      this.frameLength = samplesPerFrame(chunk.format, this.durationMs) * chunk.format.channels;
    } else if (format !== chunk.format && !sameFormat(format, chunk.format)) {
      throw badAudio(
        `frames: the audio changed format mid-stream, from ${describeFormat(format)} to ${describeFormat(chunk.format)}`,
      );
    }
    const frameLength = this.frameLength;
    const samples = chunk.samples;
    let from = 0;
    const ring = this.ring;
    if (ring !== undefined && ring.length > 0) {
      // The frame begun in an earlier chunk: completed from this one's head, copied.
      from = Math.min(samples.length, frameLength - ring.length);
      ring.write(samples.subarray(0, from));
      if (ring.length < frameLength || sink.closed) return;
      sink.next({ format, samples: ring.read(frameLength) });
    } else if (samples.length === frameLength) {
      // Already one frame: at thousands of live streams, copies here were most of the garbage.
      sink.next(chunk);
      return;
    }
    for (; samples.length - from >= frameLength && !sink.closed; from += frameLength) {
      sink.next({ format, samples: samples.subarray(from, from + frameLength) });
    }
    if (from < samples.length && !sink.closed) this.hold(samples.subarray(from), format);
  }

  /** Keeps the start of the next frame (a copy: the chunk need not outlive it). */
  private hold(samples: Int16Array | Float32Array, format: AudioFormat): void {
    // Made at the first chunk that is not whole frames: a source that frames already needs none.
    this.ring ??= new SampleRing<Int16Array | Float32Array>(
      format.encoding === 'pcm_s16le' ? (n) => new Int16Array(n) : (n) => new Float32Array(n),
      this.frameLength,
    );
    this.ring.write(samples);
  }

  /** At the end of the stream: what is held goes out as a last, short frame. */
  flush(sink: FrameSink): void {
    const ring = this.ring;
    if (ring !== undefined && ring.length > 0) {
      sink.next({ format: this.format!, samples: ring.read(ring.length) });
    }
    this.ring = undefined;
  }
}
