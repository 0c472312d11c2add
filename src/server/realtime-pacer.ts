/**
 * Paces a session's consumption of audio to `factor` times real time, as a
 * live source or a cloud provider would: the audio up to second t is consumed
 * no earlier than t / factor seconds after the first audio arrived.
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

  /** Milliseconds to wait before `bytes` more audio may be consumed; counts them as consumed. */
  delayFor(bytes: number): number {
    const now = this.now();
    this.startMs ??= now;
    this.consumedBytes += bytes;
    const due = this.startMs + (this.consumedBytes / this.bytesPerSecond / this.factor) * 1000;
    return Math.max(0, due - now);
  }
}
