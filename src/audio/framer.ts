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
 * session can run it inline. A chunk that is exactly one frame, arriving
 * with nothing held, is passed on as it is (no copy, no allocation).
 */
export class Framer {
  private format: AudioFormat | undefined;
  private ring: SampleRing<Int16Array | Float32Array> | undefined;
  /** Samples (all channels) per frame. */
  private frameLength = 0;

  constructor(private readonly durationMs: number) {}

  /** Throws a bad-audio TranscriptionError if the format changes mid-stream. */
  push(chunk: AudioChunk, sink: FrameSink): void {
    const format = this.format;
    if (format === undefined) {
      this.format = chunk.format;
      this.frameLength = samplesPerFrame(chunk.format, this.durationMs) * chunk.format.channels;
    } else if (format !== chunk.format && !sameFormat(format, chunk.format)) {
      throw badAudio(
        `frames: the audio changed format mid-stream, from ${describeFormat(format)} to ${describeFormat(chunk.format)}`,
      );
    }
    const frameLength = this.frameLength;
    let ring = this.ring;
    if ((ring === undefined || ring.length === 0) && chunk.samples.length === frameLength) {
      // Already one frame: at thousands of live streams, copies here were most of the garbage.
      sink.next(chunk);
      return;
    }
    // Made at the first chunk that is not one frame: a source that frames already needs none.
    ring ??= this.ring = new SampleRing<Int16Array | Float32Array>(
      this.format!.encoding === 'pcm_s16le' ? (n) => new Int16Array(n) : (n) => new Float32Array(n),
      frameLength * 2,
    );
    ring.write(chunk.samples);
    while (ring.length >= frameLength && !sink.closed) {
      sink.next({ format: this.format!, samples: ring.read(frameLength) });
    }
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
