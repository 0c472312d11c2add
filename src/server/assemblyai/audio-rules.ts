/**
 * AssemblyAI's two rules for audio, which it enforces by closing with 3007:
 * every binary message holds 50 to 1,000 ms of audio, and audio comes no
 * faster than real time. The service tolerates some burst (audio buffered by
 * a client or a network and sent at once); this server lets the audio
 * received run ahead of the wall clock since the first audio by at most
 * `burstMs` (default {@link DEFAULT_BURST_MS}), then refuses it.
 */

/** The shortest and longest audio message AssemblyAI takes, in ms. */
export const FRAME_LIMITS_MS = { min: 50, max: 1000 } as const;

/** How far audio may run ahead of real time before 3007, by default. */
export const DEFAULT_BURST_MS = 2000;

/** Checks each audio message of one session; returns the `Error` text of a violation, if any. */
export class AudioRules {
  private firstAt: number | undefined;
  private receivedMs = 0;

  constructor(
    private readonly sampleRate: number,
    private readonly burstMs: number = DEFAULT_BURST_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Milliseconds of audio received so far. */
  get audioMs(): number {
    return this.receivedMs;
  }

  /** Counts a message of `bytes` of 16-bit PCM: undefined when it keeps the rules, else why not. */
  check(bytes: number): string | undefined {
    const durationMs = (bytes / 2 / this.sampleRate) * 1000;
    if (durationMs < FRAME_LIMITS_MS.min || durationMs > FRAME_LIMITS_MS.max) {
      return `Input duration violation: ${durationMs.toFixed(0)} ms. Expected between ${FRAME_LIMITS_MS.min} and ${FRAME_LIMITS_MS.max} ms`;
    }
    const now = this.now();
    this.firstAt ??= now;
    // The first message's audio may arrive at once: the clock starts at its end.
    const elapsedMs = now - this.firstAt;
    const aheadMs = this.receivedMs - elapsedMs;
    this.receivedMs += durationMs;
    if (aheadMs > this.burstMs) {
      return `Audio Transmission Rate Exceeded: Received ${(this.receivedMs / 1000).toFixed(1)} sec. audio in ${(elapsedMs / 1000).toFixed(1)} sec`;
    }
    return undefined;
  }
}
