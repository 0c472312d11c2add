/**
 * The frames of one session, by sequence number: their audio, copied into one
 * buffer of the session's own, and their place on the timeline, in typed
 * arrays. Frames stay from `append` until `release`: a session keeps what the
 * server has not answered or not finalised, to resend after a reconnect.
 *
 * Why not an object per frame: frames live about a second (until a final
 * covers them), long enough for V8 to promote them, and a stream of promoted
 * objects that then die keeps the old generation collecting; with thousands
 * of sessions that was most of the client's CPU (docs/decisions/0010). Here
 * nothing is allocated per frame once the buffers have grown to the session's
 * needs, and the source's chunks die young because their samples are copied.
 */
export class FrameStore {
  /** Samples of the frames kept, each frame contiguous; a frame that does not fit at the end starts again at 0. */
  private data: Int16Array;
  /** Per frame (slot `seq & mask`): start ms, end ms, credit ms, sent at, first sample, sample count. */
  private meta: Float64Array;
  private mask: number;
  private firstSeq = 0;
  private endSeq = 0;
  /** Where the next frame's samples go. */
  private writeAt = 0;
  /** Samples held by the frames kept. */
  private heldSamples = 0;
  /** The most samples held since the last look at shrinking, and the frame count at that look. */
  private peakSamples = 0;
  private lookedAt = 0;
  private resized = 0;
  /**
   * The first frame placed at 0 after the end of the buffer: while an older frame is kept,
   * the frames kept wrap around, and the free space is between the newest and the oldest.
   */
  private wrapSeq = 0;

  /**
   * @param frameSamples samples in a typical frame: the buffers start with room for a few, and
   *   never shrink below that.
   */
  constructor(private readonly frameSamples: number) {
    this.data = new Int16Array(Math.max(1, frameSamples * MIN_AUDIO_FRAMES));
    this.meta = new Float64Array(MIN_FRAMES * FIELDS);
    this.mask = MIN_FRAMES - 1;
  }

  /** Sequence number of the oldest frame kept. */
  get first(): number {
    return this.firstSeq;
  }

  /** Sequence number the next frame appended gets. */
  get end(): number {
    return this.endSeq;
  }

  /** How many times the sample buffer was reallocated (to grow or shrink). */
  get resizes(): number {
    return this.resized;
  }

  /** Bytes of sample memory this store holds (its capacity, not only what is used). */
  get capacityBytes(): number {
    return this.data.byteLength;
  }

  /** Copies a frame in; returns its sequence number. Its credit is its duration; it is unsent. */
  append(samples: Int16Array, startMs: number, endMs: number): number {
    if (this.endSeq - this.firstSeq === this.mask + 1) this.growMeta();
    const n = samples.length;
    let at = this.place(n);
    if (at < 0) {
      this.resize(Math.max(Math.ceil(this.data.length * 1.5), this.heldSamples + n + this.frameSamples));
      at = this.place(n);
    }
    this.data.set(samples, at);
    this.writeAt = at + n;
    this.heldSamples += n;
    if (this.heldSamples > this.peakSamples) this.peakSamples = this.heldSamples;
    const seq = this.endSeq++;
    const i = (seq & this.mask) * FIELDS;
    const meta = this.meta;
    meta[i] = startMs;
    meta[i + 1] = endMs;
    meta[i + 2] = endMs - startMs;
    meta[i + 3] = Number.NaN;
    meta[i + 4] = at;
    meta[i + 5] = n;
    return seq;
  }

  /**
   * A view of a frame's samples. Valid until the store next changes (an append may move
   * them): hand it to the socket, which copies it, and do not keep it.
   */
  samples(seq: number): Int16Array {
    const i = this.slot(seq);
    return this.data.subarray(this.meta[i + 4]!, this.meta[i + 4]! + this.meta[i + 5]!);
  }

  startMs(seq: number): number {
    return this.meta[this.slot(seq)]!;
  }

  endMs(seq: number): number {
    return this.meta[this.slot(seq) + 1]!;
  }

  /** The window credit the frame returns when first answered (0 once taken). */
  takeCredit(seq: number): number {
    const i = this.slot(seq) + 2;
    const credit = this.meta[i]!;
    this.meta[i] = 0;
    return credit;
  }

  /** When it was first sent (NaN: never). */
  sentAt(seq: number): number {
    return this.meta[this.slot(seq) + 3]!;
  }

  /** Marks it sent at `at` if it never was; true if so (a first send, not a replay). */
  markFirstSent(seq: number, at: number): boolean {
    const i = this.slot(seq) + 3;
    if (!Number.isNaN(this.meta[i]!)) return false;
    this.meta[i] = at;
    return true;
  }

  /** Drops the first `samples` of a frame (finalised audio), which now starts `ms` later. */
  cutHead(seq: number, samples: number, ms: number): void {
    const i = this.slot(seq);
    const cut = Math.min(samples, this.meta[i + 5]!);
    this.meta[i] = this.meta[i]! + ms;
    this.meta[i + 4] = this.meta[i + 4]! + cut;
    this.meta[i + 5] = this.meta[i + 5]! - cut;
    this.heldSamples -= cut;
  }

  /** Frames before `seq` are no longer needed; the buffers shrink when mostly empty. */
  release(seq: number): void {
    const until = Math.min(seq, this.endSeq);
    for (let s = this.firstSeq; s < until; s++) this.heldSamples -= this.meta[(s & this.mask) * FIELDS + 5]!;
    if (until > this.firstSeq) this.firstSeq = until;
    // After a backlog (an outage's replay) is finalised, give the memory back. Judged on the
    // most held over a stretch of frames, not the moment: what is held drops after every
    // final and climbs again, and shrinking on each drop would reallocate all the time.
    if (this.endSeq - this.lookedAt >= SHRINK_EVERY_FRAMES) {
      const peak = Math.max(this.frameSamples * MIN_AUDIO_FRAMES, this.peakSamples + this.frameSamples);
      if (this.data.length > 4 * peak) this.resize(2 * peak);
      this.lookedAt = this.endSeq;
      this.peakSamples = this.heldSamples;
    }
  }

  /** Forgets every frame and gives back all of the sample memory (it grows again if needed). */
  clear(): void {
    this.firstSeq = this.endSeq;
    this.heldSamples = 0;
    this.peakSamples = 0;
    this.writeAt = 0;
    this.data = new Int16Array(0);
  }

  private slot(seq: number): number {
    if (seq < this.firstSeq || seq >= this.endSeq) {
      throw new RangeError(`FrameStore: frame ${seq} is not held (${this.firstSeq} to ${this.endSeq - 1})`);
    }
    return (seq & this.mask) * FIELDS;
  }

  /** Where `n` samples fit without touching a frame kept, or -1. */
  private place(n: number): number {
    const capacity = this.data.length;
    if (this.firstSeq === this.endSeq) return n <= capacity ? 0 : -1;
    const oldest = this.meta[(this.firstSeq & this.mask) * FIELDS + 4]!;
    if (this.wrapSeq <= this.firstSeq) {
      // Not wrapped: free space after the newest frame, then before the oldest.
      if (this.writeAt + n <= capacity) return this.writeAt;
      if (n > oldest) return -1;
      this.wrapSeq = this.endSeq;
      return 0;
    }
    // Wrapped: free space between the newest frame and the oldest.
    return this.writeAt + n <= oldest ? this.writeAt : -1;
  }

  /** Moves the frames kept, in order, to the start of a buffer of `capacity` samples. */
  private resize(capacity: number): void {
    const next = new Int16Array(capacity);
    let at = 0;
    for (let s = this.firstSeq; s < this.endSeq; s++) {
      const i = (s & this.mask) * FIELDS;
      const from = this.meta[i + 4]!;
      const n = this.meta[i + 5]!;
      next.set(this.data.subarray(from, from + n), at);
      this.meta[i + 4] = at;
      at += n;
    }
    this.data = next;
    this.writeAt = at;
    this.wrapSeq = 0;
    this.resized += 1;
  }

  private growMeta(): void {
    const size = (this.mask + 1) * 2;
    const meta = new Float64Array(size * FIELDS);
    for (let s = this.firstSeq; s < this.endSeq; s++) {
      const from = (s & this.mask) * FIELDS;
      meta.set(this.meta.subarray(from, from + FIELDS), (s & (size - 1)) * FIELDS);
    }
    this.meta = meta;
    this.mask = size - 1;
  }
}

const FIELDS = 6;
/** Frames the timeline arrays hold at least (a power of two, for `seq & mask`). */
const MIN_FRAMES = 16;
/** Frames of audio the sample buffer holds at least; it grows by half as needed. */
const MIN_AUDIO_FRAMES = 4;
/** Frames between looks at whether the sample buffer is much larger than what was held. */
const SHRINK_EVERY_FRAMES = 64;
