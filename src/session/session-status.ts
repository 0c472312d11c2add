import type { TranscriptionError } from '../errors/transcription-error.js';

/** A change of a session's state, as the session reports it (without its id). */
export type SessionStatusUpdate =
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

/**
 * Where a transcription session stands, as `transcribe(opts).status$` reports
 * it: `session` says which subscription (counted from 1 per operator).
 */
export type SessionStatus = SessionStatusUpdate & { readonly session: number };
