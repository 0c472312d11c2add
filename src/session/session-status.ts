import type { TranscriptionError } from '../errors/transcription-error.js';

/** Where a transcription session stands, as `transcribe(opts).status$` reports it. */
export type SessionStatus =
  /** Opening a connection (`attempt` 0 for the first, counted up while retrying). */
  | { readonly state: 'connecting'; readonly attempt: number; readonly reason?: 'rotation' }
  /** A connection is open and configured; `connections` counts them so far. */
  | { readonly state: 'open'; readonly connections: number }
  /** The connection failed; another is tried after `delayMs`. */
  | {
      readonly state: 'reconnecting';
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: TranscriptionError;
    }
  /** The audio ended; waiting for the final result. */
  | { readonly state: 'closing' }
  /** Over: completed (code 1000), failed (with the error), or unsubscribed. */
  | { readonly state: 'closed'; readonly code?: number; readonly error?: TranscriptionError };
