import { Observable, type OperatorFunction } from 'rxjs';
import type { AudioChunk } from '../audio/audio-format.js';
import type { FlowSnapshot } from '../flow/flow-stats.js';
import type { TranscriptionProtocol } from '../protocols/protocol.js';
import { vosk } from '../protocols/vosk.js';
import { TranscriptionSession } from '../session/transcription-session.js';
import type { TranscriptEvent } from '../transcript-event.js';
import type { SocketFactory } from '../transport/socket-driver.js';
import type { OverflowPolicy } from './controlled.js';

/** Options of {@link transcribe}. */
export interface TranscribeOptions {
  /** The server, `ws://` or `wss://`. */
  readonly url: string;
  /** The server's protocol. Default `vosk()`. */
  readonly protocol?: TranscriptionProtocol;
  /** Duration of the audio frames sent, in ms. Default 100. */
  readonly frameMs?: number;
  /** Handshake headers, e.g. an Authorization header (Node only: browsers cannot set them). */
  readonly headers?: Readonly<Record<string, string>>;
  /** WebSocket subprotocols. */
  readonly protocols?: readonly string[];
  /** Give up on a handshake after this long. Default 10,000 ms. */
  readonly connectTimeoutMs?: number;
  /** After end-of-stream, wait this long at most for the final result. Default 30,000 ms. */
  readonly finalTimeoutMs?: number;
  /** How sockets are made: `ws` in Node, the standard WebSocket in browsers, or your own. */
  readonly socketFactory?: SocketFactory;
  /**
   * Flow control: the most audio sent and not yet answered by the server, in
   * ms. Sources that can wait read no further ahead than this. Default 500.
   */
  readonly windowMs?: number;
  /** For sources that cannot wait (a Subject, a microphone): the most audio buffered, in ms. Default 5,000. */
  readonly maxBufferMs?: number;
  /** What a full buffer does: 'drop-oldest' (default), 'drop-newest' or 'error'. Every drop is counted. */
  readonly overflow?: OverflowPolicy;
  /** Stop sending while the socket holds this many bytes unsent; resume as it drains. Default 64 KiB. */
  readonly highWaterBytes?: number;
}

/** The `transcribe` operator, which also reports what flow control did in its latest session. */
export interface TranscribeOperator extends OperatorFunction<AudioChunk, TranscriptEvent> {
  /** Produced, sent, dropped and buffered audio of the latest session (undefined before the first). */
  stats(): FlowSnapshot | undefined;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(v > 0) || !Number.isFinite(v))
    throw new RangeError(`transcribe: ${name} must be a positive number, got ${v}`);
  return v;
}

/**
 * Transcribes a stream of audio: normalises it to the server's format
 * (16-bit mono at its rate, anti-aliased), cuts it into frames, streams them
 * over a WebSocket frame by frame, and emits the server's partial and final
 * results as TranscriptEvents, with times in ms from the start of the audio.
 * Completes after the final result that follows the end of the audio; errors
 * with a TranscriptionError; unsubscribing closes the socket with 1000 and
 * stops reading the source.
 *
 * @example
 * fromFile('meeting.wav')
 *   .pipe(transcribe({ url: 'ws://localhost:2700' }))
 *   .subscribe((event) => console.log(event.type, event.text));
 */
export function transcribe(options: TranscribeOptions): TranscribeOperator {
  if (typeof options?.url !== 'string' || !/^wss?:\/\//i.test(options.url)) {
    throw new TypeError(`transcribe: url must be a ws:// or wss:// URL, got ${String(options?.url)}`);
  }
  const config = {
    url: options.url,
    protocol: options.protocol ?? vosk(),
    frameMs: positive('frameMs', options.frameMs, 100),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    finalTimeoutMs: positive('finalTimeoutMs', options.finalTimeoutMs, 30_000),
    windowMs: positive('windowMs', options.windowMs, 500),
    maxBufferMs: positive('maxBufferMs', options.maxBufferMs, 5000),
    overflow: options.overflow ?? 'drop-oldest',
    highWaterBytes: positive('highWaterBytes', options.highWaterBytes, 64 * 1024),
    ...(options.headers !== undefined ? { headers: options.headers } : {}),
    ...(options.protocols !== undefined ? { protocols: options.protocols } : {}),
    ...(options.socketFactory !== undefined ? { socketFactory: options.socketFactory } : {}),
  };
  if (config.windowMs < config.frameMs) {
    throw new RangeError(
      `transcribe: windowMs (${config.windowMs}) must hold at least one frame (${config.frameMs} ms)`,
    );
  }
  if (!['drop-oldest', 'drop-newest', 'error'].includes(config.overflow)) {
    throw new RangeError(
      `transcribe: overflow must be 'drop-oldest', 'drop-newest' or 'error', got ${config.overflow}`,
    );
  }
  let latest: TranscriptionSession | undefined;
  const operator = (audio$: Observable<AudioChunk>): Observable<TranscriptEvent> =>
    new Observable<TranscriptEvent>((subscriber) => {
      const session = new TranscriptionSession(config, audio$, subscriber);
      latest = session;
      session.start();
      return () => session.dispose();
    });
  return Object.assign(operator, { stats: () => latest?.flow.snapshot() });
}
