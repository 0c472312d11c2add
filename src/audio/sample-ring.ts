/**
 * A ring buffer of 16-bit or float samples. Writes grow it up to `maxCapacity`
 * (beyond that they throw: bounding memory is the caller's job, made explicit);
 * reads copy out, so what is read is owned by the reader.
 */
export class SampleRing<T extends Int16Array | Float32Array> {
  private buffer: T;
  private head = 0; // index of the oldest sample
  private size = 0;

  constructor(
    private readonly make: (length: number) => T,
    initialCapacity: number,
    private readonly maxCapacity = Number.POSITIVE_INFINITY,
  ) {
    this.buffer = make(Math.max(1, Math.min(initialCapacity, maxCapacity)));
  }

  /** Samples held. */
  get length(): number {
    return this.size;
  }

  get capacity(): number {
    return this.buffer.length;
  }

  /** Appends samples (grows the buffer when needed, up to maxCapacity). */
  write(samples: T): void {
    if (this.size + samples.length > this.maxCapacity) {
      throw new RangeError(`SampleRing over its capacity of ${this.maxCapacity} samples`);
    }
    if (this.size + samples.length > this.buffer.length) this.grow(this.size + samples.length);
    const tail = (this.head + this.size) % this.buffer.length;
    const first = Math.min(samples.length, this.buffer.length - tail);
    this.buffer.set(samples.subarray(0, first), tail);
    if (first < samples.length) this.buffer.set(samples.subarray(first), 0);
    this.size += samples.length;
  }

  /** Removes and returns the oldest `count` samples (fewer if fewer are held). */
  read(count: number): T {
    const n = Math.max(0, Math.min(count, this.size));
    const out = this.make(n);
    const first = Math.min(n, this.buffer.length - this.head);
    out.set(this.buffer.subarray(this.head, this.head + first), 0);
    if (first < n) out.set(this.buffer.subarray(0, n - first), first);
    this.head = (this.head + n) % this.buffer.length;
    this.size -= n;
    return out;
  }

  /** Drops the oldest `count` samples. */
  discard(count: number): void {
    const n = Math.max(0, Math.min(count, this.size));
    this.head = (this.head + n) % this.buffer.length;
    this.size -= n;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  private grow(needed: number): void {
    const capacity = Math.min(this.maxCapacity, Math.max(needed, this.buffer.length * 2));
    const next = this.make(capacity);
    const held = this.read(this.size);
    next.set(held, 0);
    this.buffer = next;
    this.head = 0;
    this.size = held.length;
  }
}
