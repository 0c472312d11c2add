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
 * is settled. An `utterance-end` marks where an utterance ended when the
 * server says so apart from a final (Deepgram's `UtteranceEnd`, with
 * `utterance_end_ms`): its text is empty, and start and end are the same
 * point. Times are milliseconds from the start of the audio stream, on one
 * timeline over every connection.
 */
export interface TranscriptEvent {
  readonly type: 'partial' | 'final' | 'utterance-end';
  readonly text: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Per-word times, where the server gives them (finals, usually); empty otherwise. */
  readonly words: readonly TranscriptWord[];
  /**
   * On a final: it ends an utterance (a pause or the end of a turn: every Vosk
   * final, Deepgram's `speech_final`, AssemblyAI's `end_of_turn`). False when
   * the server settled words mid-utterance (Deepgram's `is_final` alone).
   */
  readonly endOfUtterance?: boolean;
  /** The provider's id of the item or turn the event belongs to, where it has one. */
  readonly id?: string;
}
