/** A word with its place on the timeline. */
export interface TranscriptWord {
  readonly text: string;
  /** Milliseconds from the start of the audio stream. */
  readonly startMs: number;
  readonly endMs: number;
  /** 0 to 1, where the server gives one. */
  readonly confidence?: number;
}

/**
 * A transcript result. Partials are the server's running hypothesis for the
 * utterance in progress (they change, and are replaced by a final); a final
 * is settled. Times are milliseconds from the start of the audio stream.
 */
export interface TranscriptEvent {
  readonly type: 'partial' | 'final';
  readonly text: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Per-word times, where the server gives them (finals, usually); empty otherwise. */
  readonly words: readonly TranscriptWord[];
}
