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
import { redactUrl, secretsOf } from '../errors/redact.js';
import type { FlowSnapshot } from '../flow/flow-stats.js';
import type { SourceNotice } from '../flow/upstream-link.js';
import type { TranscriptionProtocol } from '../protocols/protocol.js';
import { vosk } from '../protocols/vosk.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import type { SessionMetrics } from '../session/session-metrics.js';
import type { SessionStatus } from '../session/session-status.js';
import {
  type ReconnectConfig,
  type SessionConfig,
  type SessionCounters,
  TranscriptionSession,
} from '../session/transcription-session.js';
import { repeatEvery } from '../timers/repeat-every.js';
import type { TranscriptEvent } from '../transcript-event.js';
import { HEADERS_ALLOWED } from '../transport/default-socket.js';
import type { SocketFactory } from '../transport/socket-driver.js';
import type { OverflowPolicy } from './controlled.js';
import type { Jitter } from './retry-backoff.js';

/** Options of {@link transcribe}. */
export interface TranscribeOptions {
  /**
   * The server, `ws://` or `wss://`. Required for Vosk; a cloud protocol has
   * its own endpoint (`deepgram({ baseUrl })` to change it), and takes this
   * one, where given, in place of its default.
   */
  readonly url?: string;
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
   * jitter, resending the audio the server had not finalised. The budget
   * counts connections that made no progress, not opens, so a server that
   * accepts and drops every connection runs it out. On by default (8 retries,
   * 250 ms to 10 s, full jitter); `false` turns it off.
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
  /**
   * The clock and every timer of the sessions (retry delays, the dead-socket
   * check, the final's timeout, flow control's stall, `metrics$`): a marble
   * test's TestScheduler, say. Default: real timers.
   */
  readonly scheduler?: SchedulerLike;
  /**
   * Query parameters of `url` whose values may be shown in errors, statuses
   * and logs (`['model', 'language']`). Every other query value is redacted,
   * as are the URL's user and password, path segments that look like tokens
   * and every header value.
   */
  readonly safeQueryParams?: readonly string[];
  /** More strings never to show (a token in a path, say): scrubbed from every error, status and log. */
  readonly secrets?: readonly string[];
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
  /**
   * Retries in a row of connections that made no progress (the server answered
   * no audio it had not answered before, and settled none), before the last
   * error surfaces; a connection that makes progress starts the count over.
   * Default 8. `Infinity` retries for ever.
   */
  readonly maxRetries?: number;
  /** Default 250 ms. */
  readonly initialDelayMs?: number;
  /** The longest wait, a server's `Retry-After` (on 429 and 503) included. Default 10,000 ms. */
  readonly maxDelayMs?: number;
  /** Default 2. */
  readonly multiplier?: number;
  /** Default 'full'. */
  readonly jitter?: Jitter;
  /** For tests: a source of randomness in [0, 1). */
  readonly random?: () => number;
}

/** What `stats()` reports: flow control, and the session's reconnects and replays. */
export interface TranscribeStats extends FlowSnapshot, SessionCounters {
  /** Which session of the operator (counted from 1) this describes. */
  readonly session: number;
}

/** One subscription's session, on its own: what `transcribe(opts).sessions$` hands out. */
export interface TranscriptionSessionHandle {
  /** Counts the sessions of the operator from 1; the `session` of its statuses and metrics. */
  readonly id: number;
  /** This session's status as it changes (the latest replayed); completes once it is closed. */
  readonly status$: Observable<SessionStatus>;
  /** Snapshots of this session every `metricsIntervalMs` while someone listens; completes once it is closed. */
  readonly metrics$: Observable<SessionMetrics>;
  /** Its produced, sent, dropped, buffered and replayed audio and reconnects, now. */
  stats(): TranscribeStats;
  /**
   * Asks the server to finalise what it has heard so far (Vosk's
   * `{"reset" : 1}`, Deepgram's `Finalize`, AssemblyAI's `ForceEndpoint`,
   * OpenAI's commit), after the audio handed over before it; the session goes on.
   * False when the protocol has no flush or no connection is open.
   */
  flush(): boolean;
}

/** The `transcribe` operator, which also reports on its sessions without a second subscription. */
export interface TranscribeOperator extends OperatorFunction<AudioChunk, TranscriptEvent> {
  /** Produced, sent, dropped, buffered and replayed audio and reconnects of the latest session. */
  stats(): TranscribeStats | undefined;
  /**
   * The state of all its sessions as it changes, each status with the
   * `session` it is about (the latest is replayed to a new subscriber).
   */
  readonly status$: Observable<SessionStatus>;
  /**
   * Snapshots of every running session every `metricsIntervalMs` while someone
   * listens (and at once on subscribing), each with its `session`; a session
   * gives one last snapshot as it ends, and while none runs, the latest is
   * sampled as it ended. Nothing is sampled when nobody
   * listens; without a `scheduler` option the timer is unref'd.
   */
  readonly metrics$: Observable<SessionMetrics>;
  /** Each final's latency in ms (sending the end of its audio to receiving it), for exporters. */
  readonly finalLatencies$: Observable<number>;
  /**
   * Each subscription's session as it starts (before it connects), to watch one
   * session alone. Only sessions that start while someone listens are given.
   */
  readonly sessions$: Observable<TranscriptionSessionHandle>;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
    throw new RangeError(`transcribe: ${name} must be a positive number, got ${describeOption(v)}`);
  return v;
}

/** An option's bad value, as a message may show it (never a string's contents: it could be a secret). */
function describeOption(value: unknown): string {
  return typeof value === 'number'
    ? String(value)
    : typeof value === 'string'
      ? 'a string'
      : String(typeof value);
}

/**
 * Transcribes a stream of audio: normalises it to the server's format
 * (16-bit mono at its rate, anti-aliased), cuts it into frames, streams them
 * over a WebSocket frame by frame, and emits the server's partial and final
 * results as TranscriptEvents, with times in ms from the start of the audio.
 * Completes after the final result that follows the end of the audio; errors
 * with a TranscriptionError; unsubscribing closes the socket with 1000 and
 * stops reading the source. Each subscription is a session of its own.
 *
 * @example
 * fromFile('meeting.wav')
 *   .pipe(transcribe({ url: 'ws://localhost:2700' }))
 *   .subscribe((event) => console.log(event.type, event.text));
 */
export function transcribe(options: TranscribeOptions): TranscribeOperator {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('transcribe: takes an options object with at least a url');
  }
  const protocol = options.protocol ?? vosk();
  const handshake = protocol.handshake?.({
    url: options.url,
    headersAllowed: options.socketFactory !== undefined || HEADERS_ALLOWED,
  });
  const url = handshake?.url ?? options.url;
  const redaction = {
    safeQueryParams: [...(handshake?.safeQueryParams ?? []), ...(options.safeQueryParams ?? [])],
  };
  if (typeof url !== 'string' || !/^wss?:\/\//i.test(url)) {
    const shown = typeof url === 'string' ? redactUrl(url, redaction) : describeOption(url);
    throw new TypeError(`transcribe: url must be a ws:// or wss:// URL, got ${shown}`);
  }
  if (options.headers !== undefined) {
    for (const [name, value] of Object.entries(options.headers)) {
      if (typeof value !== 'string') {
        throw new TypeError(
          `transcribe: header ${JSON.stringify(name)} must be a string, got a ${typeof value}`,
        );
      }
    }
  }
  const headers =
    handshake?.headers !== undefined || options.headers !== undefined
      ? { ...handshake?.headers, ...options.headers }
      : undefined;
  const protocols = options.protocols ?? handshake?.protocols;
  const userClassify = options.classifyClose;
  const protocolClassify = protocol.classifyClose?.bind(protocol);
  const maxConnectionMs =
    options.maxConnectionMs === undefined
      ? undefined
      : positive('maxConnectionMs', options.maxConnectionMs, 0);
  const config: SessionConfig = {
    url,
    shownUrl: redactUrl(url, redaction),
    protocol,
    frameMs: withinFrameLimits(positive('frameMs', options.frameMs, 100), protocol),
    connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    finalTimeoutMs: positive('finalTimeoutMs', options.finalTimeoutMs, 30_000),
    windowMs: positive('windowMs', options.windowMs, protocol.windowMs ?? 1000),
    readAheadMs: options.readAheadMs ?? (options.windowMs ?? protocol.windowMs ?? 1000) / 2,
    maxBufferMs: positive('maxBufferMs', options.maxBufferMs, 5000),
    overflow: options.overflow ?? 'drop-oldest',
    highWaterBytes: positive('highWaterBytes', options.highWaterBytes, 64 * 1024),
    reconnect: reconnectConfig(options.reconnect),
    maxReplayMs: positive('maxReplayMs', options.maxReplayMs, 30_000),
    deadAfterMs: positive('deadAfterMs', options.deadAfterMs, 10_000),
    maxConnectionMs: connectionLifetime(maxConnectionMs, protocol.connectionLimitMs),
    breaker: options.breaker,
    classifyClose:
      userClassify !== undefined && protocolClassify !== undefined
        ? (code, reason) => userClassify(code, reason) ?? protocolClassify(code, reason)
        : (userClassify ?? protocolClassify),
    refusal: protocol.classifyRefusal?.bind(protocol),
    scheduler: options.scheduler ?? asyncScheduler,
    secrets: secretsOf(url, headers, {
      ...redaction,
      extra: [...(handshake?.secrets ?? []), ...(options.secrets ?? [])],
    }),
    ...(headers !== undefined ? { headers } : {}),
    ...(protocols !== undefined ? { protocols } : {}),
    ...(options.socketFactory !== undefined ? { socketFactory: options.socketFactory } : {}),
  };
  if (!(config.readAheadMs >= 0) || !Number.isFinite(config.readAheadMs)) {
    throw new RangeError(
      `transcribe: readAheadMs must be 0 or more, got ${describeOption(config.readAheadMs)}`,
    );
  }
  if (config.windowMs < config.frameMs) {
    throw new RangeError(
      `transcribe: windowMs (${config.windowMs}) must hold at least one frame (${config.frameMs} ms)`,
    );
  }
  if (!['drop-oldest', 'drop-newest', 'error'].includes(config.overflow)) {
    throw new RangeError(
      `transcribe: overflow must be 'drop-oldest', 'drop-newest' or 'error', got ${describeOption(config.overflow)}`,
    );
  }
  const every = positive('metricsIntervalMs', options.metricsIntervalMs, 1000);
  const userScheduler = options.scheduler;
  const logger = options.logger;
  const where = redactUrl(config.url, redaction);
  const log = sessionLogger(logger, where);

  let latest: TranscriptionSession | undefined;
  let sessions = 0;
  /** Sessions running. */
  const live = new Set<TranscriptionSession>();
  const status$ = new ReplaySubject<SessionStatus>(1);
  const finalLatencies$ = new Subject<number>();
  const sessions$ = new Subject<TranscriptionSessionHandle>();
  /** metrics$ subscribers, told of each session as it ends (its last sample). */
  const endWatchers = new Set<(session: TranscriptionSession) => void>();

  const statsOf = (session: TranscriptionSession): TranscribeStats => ({
    ...session.flow.snapshot(),
    ...session.counters,
    session: session.id,
  });

  const operator = (audio$: Observable<AudioChunk>): Observable<TranscriptEvent> =>
    new Observable<TranscriptEvent>((subscriber) => {
      const id = ++sessions;
      // Only when someone watches sessions one by one: a session's own status stream.
      const own$ = sessions$.observed ? new ReplaySubject<SessionStatus>(1) : undefined;
      const session: TranscriptionSession = new TranscriptionSession(id, config, audio$, subscriber, {
        status: (status) => {
          log.status(status);
          status$.next(status);
          own$?.next(status);
          if (status.state === 'closed' && live.delete(session)) {
            for (const watcher of endWatchers) watcher(session);
            own$?.complete();
          }
        },
        finalLatency: (ms) => finalLatencies$.next(ms),
        notice: (notice) => log.notice(id, notice),
      });
      latest = session;
      live.add(session);
      if (own$ !== undefined) sessions$.next(sessionHandle(session, own$));
      session.start();
      return () => session.dispose();
    });

  const sessionHandle = (
    session: TranscriptionSession,
    own$: ReplaySubject<SessionStatus>,
  ): TranscriptionSessionHandle => ({
    id: session.id,
    status$: own$.asObservable(),
    metrics$: sampled(userScheduler, every, (lateMs) => {
      const sample = session.metrics(platformSample(lateMs));
      return { samples: [sample], done: sample.state === 'closed' };
    }),
    stats: () => statsOf(session),
    flush: () => session.flush(),
  });

  const metrics$ = new Observable<SessionMetrics>((subscriber) => {
    // A session that ends between two ticks gives its last sample as it ends.
    const watcher = (session: TranscriptionSession): void =>
      subscriber.next(session.metrics(platformSample(undefined)));
    endWatchers.add(watcher);
    const ticks = sampled(userScheduler, every, (lateMs) => {
      const platform = platformSample(lateMs);
      // Nothing running: the latest session as it ended (what a user asks after the fact).
      const picked = live.size > 0 ? [...live] : latest !== undefined ? [latest] : [];
      return { samples: picked.map((session) => session.metrics(platform)), done: false };
    }).subscribe(subscriber);
    return () => {
      endWatchers.delete(watcher);
      ticks.unsubscribe();
    };
  });

  return Object.assign(operator, {
    stats: () => (latest === undefined ? undefined : statsOf(latest)),
    status$: status$.asObservable(),
    metrics$,
    finalLatencies$: finalLatencies$.asObservable(),
    sessions$: sessions$.asObservable(),
  });
}

/**
 * Samples every `every` ms while subscribed, and at once: on `scheduler` when
 * the user gave one (a marble test's virtual clock), else on an unref'd
 * interval so that a metrics subscription never keeps a process alive. `take`
 * gets how late the timer fired (event-loop delay) and returns what to emit,
 * and whether the sampled thing is over (then the Observable completes).
 */
function sampled<T>(
  scheduler: SchedulerLike | undefined,
  every: number,
  take: (lateMs: number | undefined) => { samples: readonly T[]; done: boolean },
): Observable<T> {
  return new Observable<T>((subscriber) => {
    const clock = scheduler ?? { now: () => Date.now() };
    let expected = clock.now() + every;
    const tick = (lateMs: number | undefined): void => {
      const { samples, done } = take(lateMs);
      for (const sample of samples) subscriber.next(sample);
      if (done) subscriber.complete();
    };
    const fire = (): void => {
      // How late this timer fired is how busy the event loop was.
      const now = clock.now();
      const lateMs = Math.max(0, now - expected);
      expected = now + every;
      tick(lateMs);
    };
    tick(undefined);
    if (subscriber.closed) return;
    return repeatEvery(scheduler, every, fire);
  });
}

/** Logs a session's statuses and notices to a pino-style logger, with nothing secret in them. */
function sessionLogger(logger: TranscribeLogger | undefined, url: string) {
  return {
    status(status: SessionStatus): void {
      if (logger === undefined) return;
      const base = { url, session: status.session };
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
    },
    notice(session: number, notice: SourceNotice): void {
      logger?.warn(
        { url, session, source: notice.source, trailingBytes: notice.bytes, frameBytes: notice.frameBytes },
        `${notice.source} ended with ${notice.bytes} byte${notice.bytes === 1 ? '' : 's'} short of a whole sample frame (${notice.frameBytes} bytes); not sent`,
      );
    },
  };
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

/** What the platform tells of itself for a metrics sample: the JS heap in use, and the timer's lateness. */
function platformSample(eventLoopDelayMs: number | undefined): {
  heapUsedBytes?: number;
  eventLoopDelayMs?: number;
} {
  return { ...heapSample(), ...(eventLoopDelayMs !== undefined ? { eventLoopDelayMs } : {}) };
}

/** The JS heap in use, where the platform tells (Node; Chromium's performance.memory). */
function heapSample(): { heapUsedBytes?: number } {
  const node = (globalThis as { process?: { memoryUsage?: () => { heapUsed: number } } }).process;
  if (node?.memoryUsage !== undefined) return { heapUsedBytes: node.memoryUsage().heapUsed };
  const memory = (globalThis as { performance?: { memory?: { usedJSHeapSize: number } } }).performance
    ?.memory;
  return memory !== undefined ? { heapUsedBytes: memory.usedJSHeapSize } : {};
}

/** `frameMs` within the protocol's frame limits (AssemblyAI takes 50 to 1,000 ms): clamped, as documented. */
function withinFrameLimits(frameMs: number, protocol: TranscriptionProtocol): number {
  const limits = protocol.frameLimitsMs;
  if (limits === undefined) return frameMs;
  return Math.min(limits.max, Math.max(limits.min, frameMs));
}

/** How long a connection lives: the user's limit, and short of the protocol's by a margin (a tenth, at most a minute). */
function connectionLifetime(userMs: number | undefined, limitMs: number | undefined): number | undefined {
  if (limitMs === undefined) return userMs;
  const beforeLimit = limitMs - Math.min(60_000, limitMs / 10);
  return userMs === undefined ? beforeLimit : Math.min(userMs, beforeLimit);
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
