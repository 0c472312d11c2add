import type { AudioChunk } from '../audio/audio-format.js';
import type { CloseCodeClass } from '../errors/close-codes.js';
import type { TranscriptionError, TranscriptionErrorKind } from '../errors/transcription-error.js';
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
   * The audio the result covers, where the protocol says so (Deepgram's
   * `start` and `duration`, OpenAI's committed spans). A final with neither
   * words nor a span covers the audio from the end of the previous final to
   * the last audio its message answers (Vosk: a final settles all the audio
   * the recogniser has taken).
   */
  readonly startMs?: number;
  readonly endMs?: number;
  /** The final ends an utterance (Vosk: every final; Deepgram: `speech_final`; AssemblyAI: `end_of_turn`). */
  readonly endOfUtterance?: boolean;
  /** The provider's id of the item or turn the result belongs to, where it has one. */
  readonly id?: string;
}

/** How far past the audio sent on a connection a server's times may reach (rounding) before they are an error. */
export const RESULT_TIME_SLACK_MS = 250;

/** What one server message meant. */
export interface DecodedMessage {
  readonly results: readonly ProtocolResult[];
  /**
   * For protocols whose credit is `'replies'`: how many of the client's
   * messages this one answers (audio frames and end-of-stream), in order.
   * Vosk answers each with exactly one reply. More answers than messages sent
   * is a protocol error, and end-of-stream counts as answered only by a
   * message with a final result. Protocols without replies leave it out (0).
   */
  readonly answers?: number;
  /**
   * The server's answer to end-of-stream is complete: nothing follows but its
   * close (Deepgram's `Metadata` after `CloseStream`, AssemblyAI's
   * `Termination`). For protocols whose `endsWith` is `'message'`.
   */
  readonly ended?: boolean;
  /** The connection is ready for audio (AssemblyAI's `Begin`, OpenAI's `session.updated`); see `awaitsReady`. */
  readonly ready?: boolean;
  /** The server marked the end of an utterance apart from a final (Deepgram's `UtteranceEnd`), at this time of the connection. */
  readonly utteranceEndMs?: number;
  /** The server reported a failure in a message (AssemblyAI's `Error`, OpenAI's `error`): the connection ends with it. */
  readonly error?: TranscriptionError;
}

/** What a protocol is told when it builds its handshake. */
export interface HandshakeContext {
  /** The `url` option of `transcribe`, if one was given. */
  readonly url: string | undefined;
  /** Whether handshake headers can be sent (Node); browsers offer subprotocols only. */
  readonly headersAllowed: boolean;
}

/** How to open a connection. */
export interface Handshake {
  /** The full URL, query parameters included. */
  readonly url: string;
  readonly protocols?: readonly string[];
  /** Node only. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Strings of the handshake never to show (a key offered as a subprotocol, say). */
  readonly secrets?: readonly string[];
  /** Query parameters whose values may be shown in errors and logs (`model`, `language`). */
  readonly safeQueryParams?: readonly string[];
}

/** How a protocol reads a refused handshake: what its server says in the body, and what that means. */
export interface RefusalClass {
  readonly kind?: TranscriptionErrorKind;
  readonly retryable?: boolean;
  /** The server's own explanation (from the body), shown in the error. */
  readonly detail?: string;
}

/**
 * One connection's encoder and decoder: made for each connection, so that a
 * protocol that keeps state (items in progress, a cached partial) starts
 * clean and is never shared by two sessions.
 */
export interface ProtocolCodec {
  /** Messages to send once the socket is open, before any audio. */
  start(): readonly WireMessage[];
  /**
   * The wire form of one frame of 16-bit mono PCM at `sampleRate`. The frame's samples are
   * only lent for the call (the session reuses their memory): return a view of them to be
   * sent at once, or a copy, never keep them.
   */
  encodeAudio(frame: AudioChunk): WireMessage;
  /** Messages that ask the server to finalise what it has now (Deepgram's `Finalize`), if it can. */
  flush?(): readonly WireMessage[];
  /** Messages that end the stream. */
  end(): readonly WireMessage[];
  /**
   * Decodes a server message; throws a protocol TranscriptionError for one it
   * cannot read (anything else it throws is reported as one too).
   */
  decode(data: WireMessage): DecodedMessage;
}

/**
 * The seam between the session and a server's wire protocol, so that each
 * provider's adapter is one file. The session owns timing, order, replay and
 * retries; the protocol says how its server wants to be spoken to.
 * See docs/decisions/0016-protocol-seam.md for how each provider fits.
 */
export interface TranscriptionProtocol {
  /** Shown in errors and logs. */
  readonly name: string;
  /** The sample rate to send (audio is resampled to it). */
  readonly sampleRate: number;
  /**
   * How flow-control credit comes back, so that at most `windowMs` of audio
   * is ever sent and not yet answered by the server:
   * - `'replies'` (Vosk): the server answers every message; a frame's room
   *   in the window is free once its reply has come.
   * - `'results'` (Deepgram): no replies, but results (interim ones too)
   *   come as the server gets through the audio; a frame's room is free once
   *   a result reaches its end. The server must say something within
   *   `windowMs` of audio (see `windowMs` below), or the sender waits.
   * - `'drain'` (AssemblyAI, OpenAI): nothing says how far the server has
   *   got; a frame's room is free once the socket has taken it, so the
   *   window is what waits to be sent and TCP's backpressure (the socket's
   *   high-water mark) bounds the rest. Audio in the kernel's buffers when a
   *   connection drops is resent from the replay buffer (`maxReplayMs`).
   * Default `'replies'`.
   */
  readonly credit?: 'replies' | 'results' | 'drain';
  /** The window this protocol's server needs (how much audio it may take before it says anything): the default of `windowMs`. */
  readonly windowMs?: number;
  /**
   * Whether the server keeps answering audio as it comes (with replies or
   * results over it), so that audio unanswered for `deadAfterMs` with nothing
   * heard means a dead connection. A server that may say nothing over silence
   * (OpenAI with server VAD) is watched by the socket's heartbeat alone.
   * Default true.
   */
  readonly answersAudio?: boolean;
  /** How end-of-stream completes: `'answer'` (the final that answers it, Vosk) or `'message'` (a message with `ended`). Default `'answer'`. */
  readonly endsWith?: 'answer' | 'message';
  /**
   * Whether the server closes the connection once it has answered end-of-stream
   * (Vosk, Deepgram, AssemblyAI): the session then completes on that close, or
   * after a short grace, and a message in between is an error. False (OpenAI,
   * whose server keeps the session open): the session completes at once and
   * closes it. Default true.
   */
  readonly closesAfterEnd?: boolean;
  /** Send no audio before a message with `ready` (AssemblyAI's `Begin`). Default false. */
  readonly awaitsReady?: boolean;
  /** A message to send whenever no audio has gone out for `idleMs` (Deepgram's `KeepAlive`). */
  readonly keepAlive?: { readonly message: WireMessage; readonly idleMs: number };
  /** Frame durations the server takes: `frameMs` is clamped into them (AssemblyAI: 50 to 1,000 ms). */
  readonly frameLimitsMs?: { readonly min: number; readonly max: number };
  /** Audio must not go faster than real time (AssemblyAI closes with 3007 otherwise): the sender paces it. */
  readonly realtime?: boolean;
  /** The longest a connection may live (OpenAI: 60 minutes): the session moves to a new one before it. */
  readonly connectionLimitMs?: number;
  /** The handshake. Without it, the `url` option is used as it is. */
  handshake?(context: HandshakeContext): Handshake;
  /** The protocol's own close codes; undefined keeps the standard table. A user's `classifyClose` comes first. */
  classifyClose?(code: number, reason: string): CloseCodeClass | undefined;
  /** Reads a refused handshake's status and body (Node gives the body); undefined keeps the default. */
  classifyRefusal?(status: number, body: string | undefined): RefusalClass | undefined;
  /** A codec for a new connection. */
  codec(): ProtocolCodec;
}
