import {
  asyncScheduler,
  Observable,
  type OperatorFunction,
  ReplaySubject,
  type SchedulerLike,
  Subject,
} from 'rxjs';
import type { AudioChunk } from '../audio/audio-format.js';
import type { CloseCodeClass } from '../errors/close-codes.js';
import { redactUrl } from '../errors/redact.js';
import type { FlowSnapshot } from '../flow/flow-stats.js';
import type { TranscriptionProtocol } from '../protocols/protocol.js';
import { vosk } from '../protocols/vosk.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import type { SessionMetrics } from '../session/session-metrics.js';
import type { SessionStatus } from '../session/session-status.js';
import {
  type ReconnectConfig,
  type SessionCounters,
  TranscriptionSession,
} from '../session/transcription-session.js';
import type { TranscriptEvent } from '../transcript-event.js';
import type { SocketFactory } from '../transport/socket-driver.js';
import type { OverflowPolicy } from './controlled.js';
import type { Jitter } from './retry-backoff.js';

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
   * ms. Default 1,000 (32 KB at 16 kHz): a larger window keeps more audio in
   * flight to a fast server (see docs/benchmarks/throughput.md).
   */
  readonly windowMs?: number;
  /**
   * How far sources that can wait read ahead of what is sent, in ms, so that a
   * read never stalls the socket. Default half the window. What is read and not
   * yet consumed by the server stays within `windowMs + readAheadMs`.
   */
  readonly readAheadMs?: number;
  /** For sources that cannot wait (a Subject, a microphone): the most audio buffered, in ms. Default 5,000. */
  readonly maxBufferMs?: number;
  /** What a full buffer does: 'drop-oldest' (default), 'drop-newest' or 'error'. Every drop is counted. */
  readonly overflow?: OverflowPolicy;
  /** Stop sending while the socket holds this many bytes unsent; resume as it drains. Default 64 KiB. */
  readonly highWaterBytes?: number;
  /**
   * Reconnect after failures that are retryable (dropped connections, 1001,
   * 1006, 1011-1014, timeouts, dead sockets), with exponential backoff and
   * jitter, resending the audio the server had not finalised. On by default
   * (8 retries, 250 ms to 10 s, full jitter); `false` turns it off.
   */
  readonly reconnect?: false | ReconnectOptions;
  /** A breaker shared by every session to the endpoint: when open, connecting fails fast. */
  readonly breaker?: CircuitBreaker;
  /** Unfinalised audio kept to resend after a reconnect, at most, in ms. Default 30,000. */
  readonly maxReplayMs?: number;
  /** A connection awaiting replies that hears nothing for this long is dead. Default 10,000 ms. */
  readonly deadAfterMs?: number;
  /** Move to a fresh connection after this long (before a provider's limit), without a gap. Default: never. */
  readonly maxConnectionMs?: number;
  /** Overrides how close codes are classified: return `{ kind, retryable }`, or undefined for the default table. */
  readonly classifyClose?: (code: number, reason: string) => CloseCodeClass | undefined;
  /** For tests: the scheduler of the session's timers (retry delays, dead-socket checks, final timeout). */
  readonly scheduler?: SchedulerLike;
  /** How often `metrics$` samples. Default 1,000 ms. */
  readonly metricsIntervalMs?: number;
  /**
   * A logger with the pino interface (`info(obj, msg)`, `warn`, `error`,
   * `debug`): connections, reconnects, endings and errors are logged, with
   * URLs redacted and no header, token or key ever written.
   */
  readonly logger?: TranscribeLogger;
}

/** The part of a pino (or compatible) logger that `transcribe` uses. */
export interface TranscribeLogger {
  debug?(object: Record<string, unknown>, message: string): void;
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

/** How `transcribe` reconnects. */
export interface ReconnectOptions {
  /** Default 8. */
  readonly maxRetries?: number;
  /** Default 250 ms. */
  readonly initialDelayMs?: number;
  /** Default 10,000 ms. */
  readonly maxDelayMs?: number;
  /** Default 2. */
  readonly multiplier?: number;
  /** Default 'full'. */
  readonly jitter?: Jitter;
  /** For tests: a source of randomness in [0, 1). */
  readonly random?: () => number;
}

/** What `stats()` reports: flow control, and the session's reconnects and replays. */
export interface TranscribeStats extends FlowSnapshot, SessionCounters {}

/** The `transcribe` operator, which also reports on its sessions without a second subscription. */
export interface TranscribeOperator extends OperatorFunction<AudioChunk, TranscriptEvent> {
  /** Produced, sent, dropped, buffered and replayed audio and reconnects of the latest session. */
  stats(): TranscribeStats | undefined;
  /** The state of its sessions as it changes (the latest is replayed to a new subscriber). */
  readonly status$: Observable<SessionStatus>;
  /**
   * Snapshots of the latest session every `metricsIntervalMs` while someone
   * listens (and at once on subscribing, once a session exists). Its timer is
   * unref'd and stops on unsubscribe; nothing is sampled when nobody listens.
   */
  readonly metrics$: Observable<SessionMetrics>;
  /** Each final's latency in ms (sending the end of its audio to receiving it), for exporters. */
  readonly finalLatencies$: Observable<number>;
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
    windowMs: positive('windowMs', options.windowMs, 1000),
    readAheadMs: options.readAheadMs ?? (options.windowMs ?? 1000) / 2,
    maxBufferMs: positive('maxBufferMs', options.maxBufferMs, 5000),
    overflow: options.overflow ?? 'drop-oldest',
    highWaterBytes: positive('highWaterBytes', options.highWaterBytes, 64 * 1024),
    reconnect: reconnectConfig(options.reconnect),
    maxReplayMs: positive('maxReplayMs', options.maxReplayMs, 30_000),
    deadAfterMs: positive('deadAfterMs', options.deadAfterMs, 10_000),
    maxConnectionMs:
      options.maxConnectionMs === undefined
        ? undefined
        : positive('maxConnectionMs', options.maxConnectionMs, 0),
    breaker: options.breaker,
    classifyClose: options.classifyClose,
    scheduler: options.scheduler ?? asyncScheduler,
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
  let sessions = 0;
  const logger = options.logger;
  const where = redactUrl(config.url);
  const log = (status: SessionStatus): void => {
    if (logger === undefined) return;
    const base = { url: where, session: sessions };
    switch (status.state) {
      case 'connecting':
        logger.debug?.({ ...base, attempt: status.attempt, reason: status.reason }, 'connecting');
        return;
      case 'open':
        logger.info({ ...base, connections: status.connections }, 'connection open');
        return;
      case 'reconnecting':
        logger.warn(
          {
            ...base,
            attempt: status.attempt,
            delayMs: Math.round(status.delayMs),
            error: describe(status.error),
          },
          'connection lost; reconnecting',
        );
        return;
      case 'closing':
        logger.debug?.(base, 'end of audio; waiting for the final result');
        return;
      case 'closed':
        if (status.error !== undefined)
          logger.error({ ...base, error: describe(status.error) }, 'transcription failed');
        else logger.info({ ...base, code: status.code }, 'transcription closed');
    }
  };
  const status$ = new ReplaySubject<SessionStatus>(1);
  const finalLatencies$ = new Subject<number>();
  const operator = (audio$: Observable<AudioChunk>): Observable<TranscriptEvent> =>
    new Observable<TranscriptEvent>((subscriber) => {
      const session = new TranscriptionSession(
        config,
        audio$,
        subscriber,
        (status) => {
          log(status);
          status$.next(status);
        },
        (ms) => finalLatencies$.next(ms),
      );
      latest = session;
      sessions += 1;
      session.start();
      return () => session.dispose();
    });
  const every = positive('metricsIntervalMs', options.metricsIntervalMs, 1000);
  const metrics$ = new Observable<SessionMetrics>((subscriber) => {
    let expected = Date.now() + every;
    const emit = (eventLoopDelayMs?: number): void => {
      if (latest === undefined) return;
      subscriber.next({
        ...latest.metrics({
          ...heapSample(),
          ...(eventLoopDelayMs !== undefined ? { eventLoopDelayMs } : {}),
        }),
        session: sessions,
      });
    };
    const timer = setInterval(() => {
      // How late this timer fired is how busy the event loop was.
      const now = Date.now();
      const lateMs = Math.max(0, now - expected);
      expected = now + every;
      emit(lateMs);
    }, every);
    (timer as { unref?: () => void }).unref?.();
    emit();
    return () => clearInterval(timer);
  });
  return Object.assign(operator, {
    stats: () => (latest === undefined ? undefined : { ...latest.flow.snapshot(), ...latest.counters }),
    status$: status$.asObservable(),
    metrics$,
    finalLatencies$: finalLatencies$.asObservable(),
  });
}

/** An error as a log field: what retry logic and people need, nothing that could hold a secret. */
function describe(error: {
  kind: string;
  retryable: boolean;
  closeCode?: number | undefined;
  message: string;
}) {
  return { kind: error.kind, retryable: error.retryable, closeCode: error.closeCode, message: error.message };
}

/** The JS heap in use, where the platform tells (Node; Chromium's performance.memory). */
function heapSample(): { heapUsedBytes?: number } {
  const node = (globalThis as { process?: { memoryUsage?: () => { heapUsed: number } } }).process;
  if (node?.memoryUsage !== undefined) return { heapUsedBytes: node.memoryUsage().heapUsed };
  const memory = (globalThis as { performance?: { memory?: { usedJSHeapSize: number } } }).performance
    ?.memory;
  return memory !== undefined ? { heapUsedBytes: memory.usedJSHeapSize } : {};
}

function reconnectConfig(options: false | ReconnectOptions | undefined): ReconnectConfig | undefined {
  if (options === false) return undefined;
  const maxRetries = options?.maxRetries ?? 8;
  if (!(maxRetries >= 0) || (Number.isFinite(maxRetries) && !Number.isInteger(maxRetries))) {
    throw new RangeError(
      `transcribe: reconnect.maxRetries must be a whole number or Infinity, got ${maxRetries}`,
    );
  }
  const config: ReconnectConfig = {
    maxRetries,
    initialDelayMs: positive('reconnect.initialDelayMs', options?.initialDelayMs, 250),
    maxDelayMs: positive('reconnect.maxDelayMs', options?.maxDelayMs, 10_000),
    multiplier: positive('reconnect.multiplier', options?.multiplier, 2),
    jitter: options?.jitter ?? 'full',
    random: options?.random ?? Math.random,
  };
  if (config.maxDelayMs < config.initialDelayMs || config.multiplier < 1) {
    throw new RangeError('transcribe: reconnect needs maxDelayMs >= initialDelayMs and multiplier >= 1');
  }
  return config;
}
