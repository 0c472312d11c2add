/** Upper bounds (ms) of the buckets of the final-latency histogram. */
export const FINAL_LATENCY_BUCKETS_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000] as const;

/** A histogram of latencies: counts per bucket (cumulative, Prometheus style), quantiles of the latest. */
export interface LatencyHistogram {
  readonly count: number;
  readonly sumMs: number;
  /** Observations at or under each bound of FINAL_LATENCY_BUCKETS_MS. */
  readonly buckets: readonly number[];
  /** Quantiles of the latest 1,024 observations (undefined before the first). */
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  readonly maxMs: number | undefined;
}

/** A snapshot of what a session is doing (`transcribe(opts).metrics$`). */
export interface SessionMetrics {
  /** When it was taken (ms since the epoch, or the `scheduler`'s time when one is given). */
  readonly at: number;
  /** Which session of the operator (counted from 1, one per subscription); counters are per session. */
  readonly session: number;
  readonly state: 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';
  /** Audio sent to the server (the first time; replays are counted apart). */
  readonly audioSentMs: number;
  readonly audioSentBytes: number;
  readonly framesSent: number;
  /** Frames sent on the current connection and not yet answered. */
  readonly framesInFlight: number;
  /** Audio waiting in flow control's buffer. */
  readonly bufferedMs: number;
  /** Audio dropped by the overflow policy. */
  readonly droppedMs: number;
  /** Audio sent again after reconnects. */
  readonly replayedMs: number;
  readonly reconnects: number;
  /** Bytes at the end of byte sources that were not a whole sample frame (not audio, not sent). */
  readonly trailingBytes: number;
  /** The shared breaker's state, when there is one. */
  readonly breakerState: 'closed' | 'open' | 'half-open' | undefined;
  /** From the start of the session to the first partial result (undefined before it). */
  readonly timeToFirstPartialMs: number | undefined;
  /** From sending the end of an utterance's audio to receiving its final. */
  readonly finalLatency: LatencyHistogram;
  /** Audio sent minus audio finalised: how far the server's settled transcript trails. */
  readonly serverLagMs: number;
  /**
   * Memory the session holds for audio it may still send or resend (unsent, unanswered or
   * unfinalised frames, with room to spare), in bytes; 0 once it has closed.
   */
  readonly audioHeldBytes: number;
  /** Sampled where the platform tells: JS heap in use, and how late the sampling timer fired. */
  readonly heapUsedBytes: number | undefined;
  readonly eventLoopDelayMs: number | undefined;
}

/** Keeps final latencies: bucket counts for ever, the latest 1,024 for quantiles. */
export class LatencyRecorder {
  private readonly counts = FINAL_LATENCY_BUCKETS_MS.map(() => 0);
  private readonly recent: number[] = [];
  private next = 0;
  private count = 0;
  private sum = 0;

  record(ms: number): void {
    this.count += 1;
    this.sum += ms;
    for (let i = 0; i < FINAL_LATENCY_BUCKETS_MS.length; i++) {
      if (ms <= FINAL_LATENCY_BUCKETS_MS[i]!) this.counts[i]! += 1;
    }
    if (this.recent.length < 1024) this.recent.push(ms);
    else this.recent[this.next] = ms;
    this.next = (this.next + 1) % 1024;
  }

  snapshot(): LatencyHistogram {
    const sorted = [...this.recent].sort((a, b) => a - b);
    const quantile = (q: number): number | undefined =>
      sorted.length === 0 ? undefined : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return {
      count: this.count,
      sumMs: this.sum,
      buckets: [...this.counts],
      p50Ms: quantile(0.5),
      p99Ms: quantile(0.99),
      maxMs: sorted.at(-1),
    };
  }
}
