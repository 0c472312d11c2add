/**
 * The seam between the reference server and a recogniser. A session's audio
 * and end-of-stream go in one message at a time; each call resolves to exactly
 * the one Vosk-protocol reply the server sends for that message.
 */

/** What a session asked for in its config message. */
export interface EngineSessionOptions {
  /** Sample rate of the 16-bit mono PCM the session will send. */
  readonly sampleRate: number;
  /** Whether finals carry per-word times and confidences (`result`). */
  readonly words: boolean;
  /**
   * Finals as Vosk's `{"alternatives": [{"text", "confidence", "result"}]}`
   * with up to this many entries; 0 or absent: plain finals. Engines that have
   * no N-best list give one alternative.
   */
  readonly alternatives?: number;
  /** Restrict recognition to these phrases (Vosk's `phrase_list`); engines without grammars ignore it. */
  readonly phrases?: readonly string[];
}

/** One recogniser session. Calls are made one at a time, each after the last resolved. */
export interface EngineSession {
  /** Feeds 16-bit little-endian mono PCM (an even number of bytes); resolves to the reply JSON. */
  accept(pcm: Uint8Array): Promise<string>;
  /** Ends the stream: flushes the last utterance and resolves to the final result JSON. */
  finish(): Promise<string>;
  /** Releases the session (kills its process, if any); resolves once it is gone. */
  close(): Promise<void>;
  /**
   * Ends the current utterance and resolves to its final result JSON; the
   * session goes on and its word times keep counting from the start of the
   * stream (Vosk's `{"reset" : 1}`). Absent on engines that cannot.
   */
  reset?(): Promise<string>;
}

/** A recogniser the server can open sessions on. */
export interface Engine {
  /** Name shown in logs, close reasons and docs. */
  readonly name: string;
  /** Sample rate used when a client sends no config. */
  readonly defaultSampleRate: number;
  /** Undefined when the engine takes this rate; otherwise why it does not. */
  checkSampleRate(sampleRate: number): string | undefined;
  /**
   * Opens a session. `onFailure` is called at most once if the session dies
   * outside a call (a crashed process); calls in flight reject as well.
   */
  createSession(options: EngineSessionOptions, onFailure: (error: EngineFailure) => void): EngineSession;
  /** Releases what the engine holds between sessions (a process pool); sessions still open end. */
  close?(): Promise<void>;
}

/** A recogniser session that cannot go on (its process exited, for instance). */
export class EngineFailure extends Error {
  override readonly name = 'EngineFailure';
}
