/** Counts of what flow control did with the audio, in sample frames, exact. */
export class FlowStats {
  /** Sample rate of the counted audio (0 until the first chunk). */
  sampleRate = 0;
  /** Whether a source has answered demand (read only what was asked for) rather than pushing. */
  pull = false;
  /** Bytes at the end of byte sources that were not a whole sample frame, so not audio: not sent. */
  trailingBytes = 0;
  /** Audio that reached flow control. */
  producedSamples = 0;
  /** Audio passed on downstream (to the socket, in `transcribe`). */
  emittedSamples = 0;
  /** Audio dropped by the overflow policy. */
  droppedSamples = 0;
  /** Audio waiting in the buffer now, and the most it ever held. */
  bufferedSamples = 0;
  peakBufferedSamples = 0;

  private ms(samples: number): number {
    return this.sampleRate === 0 ? 0 : (samples * 1000) / this.sampleRate;
  }

  get producedMs(): number {
    return this.ms(this.producedSamples);
  }
  get emittedMs(): number {
    return this.ms(this.emittedSamples);
  }
  get droppedMs(): number {
    return this.ms(this.droppedSamples);
  }
  get bufferedMs(): number {
    return this.ms(this.bufferedSamples);
  }
  get peakBufferedMs(): number {
    return this.ms(this.peakBufferedSamples);
  }

  /** A plain copy, for reports. */
  snapshot(): FlowSnapshot {
    return {
      pull: this.pull,
      trailingBytes: this.trailingBytes,
      sampleRate: this.sampleRate,
      producedSamples: this.producedSamples,
      emittedSamples: this.emittedSamples,
      droppedSamples: this.droppedSamples,
      bufferedSamples: this.bufferedSamples,
      peakBufferedSamples: this.peakBufferedSamples,
      producedMs: this.producedMs,
      emittedMs: this.emittedMs,
      droppedMs: this.droppedMs,
      bufferedMs: this.bufferedMs,
      peakBufferedMs: this.peakBufferedMs,
    };
  }
}

/** A snapshot of {@link FlowStats}. */
export interface FlowSnapshot {
  readonly pull: boolean;
  /** Bytes at the end of byte sources that were not a whole sample frame (not audio, not sent). */
  readonly trailingBytes: number;
  readonly sampleRate: number;
  readonly producedSamples: number;
  readonly emittedSamples: number;
  readonly droppedSamples: number;
  readonly bufferedSamples: number;
  readonly peakBufferedSamples: number;
  readonly producedMs: number;
  readonly emittedMs: number;
  readonly droppedMs: number;
  readonly bufferedMs: number;
  readonly peakBufferedMs: number;
}
