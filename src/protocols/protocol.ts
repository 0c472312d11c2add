import type { AudioChunk } from '../audio/audio-format.js';
import type { WireMessage } from '../transport/socket-driver.js';

/**
 * A result as the server gave it: times in ms from the start of this
 * connection's audio. The session checks every result before it uses it:
 * times finite, not negative, start before end, within the audio sent on the
 * connection (give or take {@link RESULT_TIME_SLACK_MS}); confidences in [0, 1].
 */
export interface ProtocolResult {
  readonly type: 'partial' | 'final';
  readonly text: string;
  readonly words: ReadonlyArray<{
    readonly text: string;
    readonly startMs: number;
    readonly endMs: number;
    readonly confidence?: number;
  }>;
  /**
   * The audio the result covers, where the protocol says so without words. A
   * final with neither words nor a span covers the audio from the end of the
   * previous final to the last audio its message answers (Vosk: a final
   * settles all the audio the recogniser has taken).
   */
  readonly startMs?: number;
  readonly endMs?: number;
}

/** How far past the audio sent on a connection a server's times may reach (rounding) before they are an error. */
export const RESULT_TIME_SLACK_MS = 250;

/** What one server message meant. */
export interface DecodedMessage {
  readonly results: readonly ProtocolResult[];
  /**
   * How many of the client's messages this one answers (audio frames and
   * end-of-stream), in order. Vosk answers each with exactly one reply. More
   * answers than messages sent is a protocol error, and end-of-stream counts
   * as answered only by a message with a final result.
   */
  readonly answers: number;
}

/** The connection details a protocol needs. */
export interface ProtocolConnectOptions {
  readonly protocols?: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The seam between the session and a server's wire protocol: small and
 * protocol-neutral, so that Deepgram, AssemblyAI or OpenAI adapters are one
 * file each. The session owns timing, order and retries; the adapter only
 * encodes and decodes.
 */
export interface TranscriptionProtocol {
  /** Shown in errors and logs. */
  readonly name: string;
  /** The sample rate to send (audio is resampled to it). */
  readonly sampleRate: number;
  /** Extra handshake details (subprotocols, headers). */
  connectOptions?(): ProtocolConnectOptions;
  /** Messages to send once the socket is open, before any audio. */
  start(): readonly WireMessage[];
  /**
   * The wire form of one frame of 16-bit mono PCM at `sampleRate`. The frame's samples are
   * only lent for the call (the session reuses their memory): return a view of them to be
   * sent at once, or a copy, never keep them.
   */
  encodeAudio(frame: AudioChunk): WireMessage;
  /** Messages that end the stream. */
  end(): readonly WireMessage[];
  /**
   * Decodes a server message; throws a protocol TranscriptionError for one it
   * cannot read (anything else it throws is reported as one too).
   */
  decode(data: WireMessage): DecodedMessage;
}
