/**
 * Paces a session's consumption of audio to `factor` times real time, as a
 * cloud provider takes a live source: audio from second t of the stream on is
 * consumed no earlier than t / factor seconds after the first audio arrived.
 * A live source's message covering second t arrives no earlier than that, so
 * it is never made to wait (no timer, no reply held back a frame); a faster
 * one waits for each message until its audio could have been captured live.
 */
export class RealtimePacer {
  private startMs: number | undefined;
  private consumedBytes = 0;

  /**
   * @param factor how many times real time (1 = live speed, 10 = ten times faster)
   * @param bytesPerSecond bytes of PCM per second of audio
   */
  constructor(
    private readonly factor: number,
    private readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(factor > 0) || !Number.isFinite(factor)) {
      throw new RangeError(`realtime factor must be a positive finite number, got ${factor}`);
    }
  }

  /** Milliseconds to wait before the next `bytes` of audio may be consumed (their start is due); counts them as consumed. */
  delayFor(bytes: number): number {
    const now = this.now();
    this.startMs ??= now;
    const due = this.startMs + (this.consumedBytes / this.bytesPerSecond / this.factor) * 1000;
    this.consumedBytes += bytes;
    return Math.max(0, due - now);
  }
}
