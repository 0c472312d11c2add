/**
 * The messages the `/v3/ws` endpoint sends, in AssemblyAI's Universal-Streaming
 * v3 shapes (the `assemblyai` SDK's `BeginEvent`, `TurnEvent`,
 * `TerminationEvent`, `ErrorEvent`; spec/server/assemblyai-types.spec.ts
 * checks them against the SDK's own types).
 */

/** A word of a `Turn`: times in ms from the start of the session's audio. */
export interface AssemblyAIWord {
  readonly start: number;
  readonly end: number;
  readonly confidence: number;
  readonly text: string;
  readonly word_is_final: boolean;
}

export interface BeginMessage {
  readonly type: 'Begin';
  readonly id: string;
  /** When the session will be closed with 3008, in Unix seconds. */
  readonly expires_at: number;
}

export interface TurnMessage {
  readonly type: 'Turn';
  readonly turn_order: number;
  readonly turn_is_formatted: boolean;
  readonly end_of_turn: boolean;
  readonly transcript: string;
  readonly end_of_turn_confidence: number;
  readonly words: AssemblyAIWord[];
}

export interface TerminationMessage {
  readonly type: 'Termination';
  readonly audio_duration_seconds: number;
  readonly session_duration_seconds: number;
}

export interface ErrorMessage {
  readonly type: 'Error';
  /** The close code that follows. */
  readonly error_code: number;
  readonly error: string;
}

export type AssemblyAIServerMessage = BeginMessage | TurnMessage | TerminationMessage | ErrorMessage;

/** AssemblyAI's close codes (assemblyai.com/docs/streaming/common-session-errors-and-closures). */
export const AssemblyAICloseCode = {
  serverError: 3005,
  invalidMessage: 3006,
  inputDuration: 3007,
  sessionExpired: 3008,
  tooManySessions: 3009,
  unauthorized: 1008,
} as const;

export function errorMessage(code: number, text: string): ErrorMessage {
  return { type: 'Error', error_code: code, error: text };
}

export function terminationMessage(audioSeconds: number, sessionSeconds: number): TerminationMessage {
  return {
    type: 'Termination',
    audio_duration_seconds: Math.round(audioSeconds),
    session_duration_seconds: Math.round(sessionSeconds),
  };
}
