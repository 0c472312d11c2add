import {
  asapScheduler,
  asyncScheduler,
  type Observable,
  type SchedulerAction,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import { type AudioChunk, describeValue, framesToMs } from '../audio/audio-format.js';
import { Framer } from '../audio/framer.js';
import { Pcm16Normaliser } from '../audio/pcm16-normaliser.js';
import type { CloseCodeClass } from '../errors/close-codes.js';
import { protocolError } from '../errors/protocol-error.js';
import { scrubError } from '../errors/redact.js';
import {
  badAudio,
  isTranscriptionError,
  rephrased,
  TranscriptionError,
} from '../errors/transcription-error.js';
import { Demand } from '../flow/demand.js';
import { DEFAULT_STALL_MS, FlowController, type OverflowPolicy } from '../flow/flow-controller.js';
import { FlowStats } from '../flow/flow-stats.js';
import { type SourceNotice, withUpstreamLink } from '../flow/upstream-link.js';
import {
  type DecodedMessage,
  type ProtocolResult,
  RESULT_TIME_SLACK_MS,
  type TranscriptionProtocol,
} from '../protocols/protocol.js';
import { resultProblem } from '../protocols/result-check.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { repeatEvery } from '../timers/repeat-every.js';
import type { TranscriptEvent, TranscriptWord } from '../transcript-event.js';
import type { SocketFactory, WireMessage } from '../transport/socket-driver.js';
import { type Connection, openConnection } from '../transport/websocket-connection.js';
import { FrameStore } from './frame-store.js';
import { type ReconnectConfig, ReconnectPolicy } from './reconnect-policy.js';
import { LatencyRecorder, type SessionMetrics } from './session-metrics.js';
import type { SessionStatus, SessionStatusUpdate } from './session-status.js';

export type { ReconnectConfig };

/** After its answer to end-of-stream, how long a server has to close before the session completes anyway. */
const END_CLOSE_GRACE_MS = 1000;

/** What a session needs to run (the resolved options of `transcribe`). */
export interface SessionConfig {
  readonly url: string;
  readonly protocol: TranscriptionProtocol;
  readonly frameMs: number;
  /** Audio sent and not yet answered, at most. */
  readonly windowMs: number;
  /** How far sources that wait read ahead of what is sent (so a file read never stalls the socket). */
  readonly readAheadMs: number;
  /** Bound of the buffer for sources that cannot wait, and what overflows it does (and the replay buffer). */
  readonly maxBufferMs: number;
  readonly overflow: OverflowPolicy;
  /** Stop sending while the socket holds more than this many bytes; go on when it has sent them. */
  readonly highWaterBytes: number;
  readonly connectTimeoutMs: number;
  readonly finalTimeoutMs: number;
  /** Reconnect after retryable failures (undefined: fail at the first). */
  readonly reconnect: ReconnectConfig | undefined;
  /** Audio sent and not yet finalised that is kept to resend after a reconnect, at most. */
  readonly maxReplayMs: number;
  /** A connection with replies awaited and nothing arriving for this long is dead. */
  readonly deadAfterMs: number;
  /** Move to a new connection after this long, where nothing is unfinalised. */
  readonly maxConnectionMs: number | undefined;
  readonly breaker: CircuitBreaker | undefined;
  readonly classifyClose: ((code: number, reason: string) => CloseCodeClass | undefined) | undefined;
  /** The clock and timers (retry delays, dead-socket checks, the final's timeout, flow control's stall). */
  readonly scheduler: SchedulerLike;
  /** Strings never to show (tokens, keys, credentials of the URL and headers): scrubbed from every error. */
  readonly secrets: readonly string[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly protocols?: readonly string[];
  readonly socketFactory?: SocketFactory;
}

/** What a session tells its operator. */
export interface SessionEvents {
  /** Its status, as it changes. */
  status(status: SessionStatus): void;
  /** Each final's latency in ms. */
  finalLatency(ms: number): void;
  /** Something a source reported (counted in stats already). */
  notice(notice: SourceNotice): void;
}

/** What the session did, beyond flow control. */
export interface SessionCounters {
  /** Audio sent and not yet finalised by the server, in ms: what a reconnect would resend. */
  unfinalisedMs: number;
  /** Connections opened after the first. */
  reconnects: number;
  /** Audio sent again after reconnects, in ms. */
  replayedMs: number;
  /** Unfinalised audio dropped from the replay buffer by the overflow policy, in ms. */
  replayDroppedMs: number;
}

/**
 * One logical transcription, over as many connections as it takes. The audio
 * goes through flow control frame by frame (a loop, never recursion); frames
 * the server has not finalised are kept (bounded by `maxReplayMs`) and sent
 * again first on a new connection, whose timestamps are shifted onto one
 * timeline from the start of the audio; finals already emitted are not
 * emitted again. Every server message is checked before it touches the
 * session. Completes after the final that answers end-of-stream.
 */
export class TranscriptionSession {
  private connection: Connection | undefined;
  /** Drops the current connection (see openConnection). */
  private dropTransport: (() => void) | undefined;
  private audio: Subscription | undefined;
  private intake: FlowController | undefined;
  private readonly policy: ReconnectPolicy;
  /**
   * Every frame from flow control, by sequence number, until it is neither
   * awaiting a reply nor unfinalised. Frames [unfinalisedFrom, sendNext) are
   * sent and not finalised (resent after a reconnect); [sendNext, end) wait to
   * be sent on this connection; [answeredNext, sendNext) await their replies
   * on it, and then `endsAwaited` end-of-stream messages.
   */
  private readonly store: FrameStore;
  private unfinalisedFrom = 0;
  private sendNext = 0;
  private answeredNext = 0;
  private endsAwaited = 0;
  /** The format of the frames (all alike, after toPcm16). */
  private format: AudioChunk['format'] | undefined;
  private pumping = false;
  readonly demand = new Demand();
  readonly flow = new FlowStats();
  private readonly tallies = { reconnects: 0, replayedMs: 0, replayDroppedMs: 0 };
  private readonly sent = { frames: 0, ms: 0, bytes: 0 };
  private readonly latencies = new LatencyRecorder();
  private readonly startedAt: number;
  private firstPartialAt: number | undefined;
  private state: SessionStatus['state'] = 'connecting';
  private audioMs = 0;
  private audioDone = false;
  private endSentHere = false;
  /** The session's time of the current connection's time 0. */
  private offsetMs = 0;
  private answeredMs = 0;
  /** Where the audio sent on this connection ends, on the session's timeline. */
  private sentEndMs = 0;
  /** The furthest audio any connection has answered, on the session's timeline: past it is progress. */
  private answeredHighMs = 0;
  private lastFinalEndMs = 0;
  private lastPartial = '';
  private finished = false;
  private opened = 0;
  private openedAt = 0;
  private lastHeard = 0;
  /** The message decoded last, whose results were checked (protocols may return it again). */
  private lastDecoded: DecodedMessage | undefined;
  /** End-of-stream was answered on this connection: only its close may follow. */
  private endAnswered = false;
  /** The latest failure of a connection (not of the breaker), for the error a session gives up with. */
  private lastConnectionError: TranscriptionError | undefined;
  /** Where the latest final on this connection ended, on the session's timeline (finals never reach back over it). */
  private connectionFinalEndMs = 0;
  private finalTimer: Subscription | undefined;
  private retryTimer: Subscription | undefined;
  private stopDeadCheck: (() => void) | undefined;

  private readonly report: (status: SessionStatusUpdate) => void;

  constructor(
    /** Counts the sessions of an operator from 1. */
    readonly id: number,
    private readonly config: SessionConfig,
    private readonly source: Observable<AudioChunk>,
    private readonly subscriber: Subscriber<TranscriptEvent>,
    private readonly events: SessionEvents,
  ) {
    this.startedAt = config.scheduler.now();
    this.store = new FrameStore(Math.ceil((config.frameMs * config.protocol.sampleRate) / 1000));
    this.policy = new ReconnectPolicy(config.reconnect, config.breaker);
    this.report = (update) => {
      this.state = update.state;
      // No token, key or credential of the URL or headers leaves in a status.
      const error = 'error' in update && update.error !== undefined ? update.error : undefined;
      const status = { ...update, session: id } as SessionStatus;
      events.status(
        error === undefined
          ? status
          : ({ ...status, error: scrubError(error, config.secrets) } as SessionStatus),
      );
    };
  }

  /** A snapshot of what the session is doing; `sample` adds what the platform can tell. */
  metrics(sample: { heapUsedBytes?: number; eventLoopDelayMs?: number } = {}): SessionMetrics {
    const flow = this.flow;
    return {
      at: this.config.scheduler.now(),
      session: this.id,
      state: this.state,
      audioSentMs: this.sent.ms,
      audioSentBytes: this.sent.bytes,
      framesSent: this.sent.frames,
      framesInFlight: this.sendNext - this.answeredNext,
      bufferedMs: flow.bufferedMs,
      droppedMs: flow.droppedMs,
      replayedMs: this.tallies.replayedMs,
      reconnects: this.tallies.reconnects,
      trailingBytes: flow.trailingBytes,
      breakerState: this.config.breaker?.state,
      timeToFirstPartialMs:
        this.firstPartialAt === undefined ? undefined : this.firstPartialAt - this.startedAt,
      finalLatency: this.latencies.snapshot(),
      serverLagMs: Math.max(0, this.sent.ms - this.lastFinalEndMs),
      // Given back at the close (the store is cleared just after the closed status).
      audioHeldBytes: this.state === 'closed' ? 0 : this.store.capacityBytes,
      heapUsedBytes: sample.heapUsedBytes,
      eventLoopDelayMs: sample.eventLoopDelayMs,
    };
  }

  start(): void {
    // Subscribed at once, so that audio pushed while connecting waits in the bounded
    // buffer instead of being lost; sources that wait read nothing until the window opens.
    this.startAudio();
    if (!this.finished) this.connect();
  }

  /** Reconnects, replays and the audio awaiting finalisation, now. */
  get counters(): SessionCounters {
    return { ...this.tallies, unfinalisedMs: this.unfinalisedMs() };
  }

  /** Audio sent and not finalised, in ms (frames are back to back on the timeline). */
  private unfinalisedMs(): number {
    const { unfinalisedFrom: from, sendNext } = this;
    return from < sendNext ? this.store.endMs(sendNext - 1) - this.store.startMs(from) : 0;
  }

  /** Releases the socket (closing it with 1000), the audio source and timers. */
  dispose(): void {
    if (!this.finished) this.report({ state: 'closed' });
    this.finished = true;
    this.clearTimers();
    this.pumpAction?.unsubscribe();
    this.audio?.unsubscribe();
    this.intake?.stop();
    this.detach();
    this.store.clear();
    this.unfinalisedFrom = this.sendNext = this.answeredNext = this.store.end;
  }

  private clearTimers(): void {
    this.finalTimer?.unsubscribe();
    this.retryTimer?.unsubscribe();
    this.stopDeadCheck?.();
    this.finalTimer = this.retryTimer = undefined;
    this.stopDeadCheck = undefined;
  }

  // --- connections -------------------------------------------------------

  private connect(reason?: 'rotation'): void {
    this.report({ state: 'connecting', attempt: this.policy.attempts, ...(reason ? { reason } : {}) });
    const refused = this.policy.acquire();
    if (refused !== undefined) {
      this.onLost(refused);
      return;
    }
    const extra = this.config.protocol.connectOptions?.() ?? {};
    const protocols = this.config.protocols ?? extra.protocols;
    const headers = { ...extra.headers, ...this.config.headers };
    // A connection that fails at once has reported it before this returns: the
    // function kept then is a no-op, replaced at the next attempt.
    this.dropTransport = openConnection(
      {
        url: this.config.url,
        connectTimeoutMs: this.config.connectTimeoutMs,
        heartbeat: { intervalMs: this.config.deadAfterMs / 2, timeoutMs: this.config.deadAfterMs },
        // A scheduler of the user's (a test's virtual clock) runs the heartbeat too; by default
        // the driver keeps its own unref'd timer and the wall clock, cheaper per message.
        ...(this.config.scheduler !== asyncScheduler ? { scheduler: this.config.scheduler } : {}),
        ...(protocols !== undefined ? { protocols } : {}),
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
        ...(this.config.socketFactory !== undefined ? { socketFactory: this.config.socketFactory } : {}),
        ...(this.config.classifyClose !== undefined ? { classifyClose: this.config.classifyClose } : {}),
      },
      {
        open: (connection) => this.onOpen(connection),
        message: (data) => {
          this.lastHeard = this.config.scheduler.now();
          this.onMessage(data);
        },
        end: () => {
          if (this.finished) return;
          // The close that confirms the answer to end-of-stream: the transcript is whole.
          if (this.endAnswered) {
            this.completeSession();
            return;
          }
          const error = new TranscriptionError(
            'the server closed the connection (1000) before the final result',
            { kind: 'server', retryable: true, closeCode: 1000 },
          );
          this.onLost(error);
        },
        error: (error) => {
          // Every word was in, end-of-stream answered: a connection lost now loses nothing.
          if (this.endAnswered) this.completeSession();
          else this.onLost(error);
        },
      },
    );
  }

  /** Drops the current connection (closing it with 1000 if it is open). */
  private detach(): void {
    const drop = this.dropTransport;
    this.dropTransport = undefined;
    this.connection = undefined;
    this.answeredNext = this.sendNext;
    this.endsAwaited = 0;
    this.endSentHere = false;
    this.release();
    this.stopDeadCheck?.();
    this.stopDeadCheck = undefined;
    drop?.();
  }

  private onLost(error: TranscriptionError): void {
    if (this.finished) return;
    const decision = this.policy.failed(error);
    this.detach();
    if (error.kind !== 'breaker-open') this.lastConnectionError = error;
    if (!decision.retry) {
      this.fail(decision.exhausted ? this.givenUp(error, decision.attempts) : error);
      return;
    }
    const { attempt, delayMs } = decision;
    this.report({ state: 'reconnecting', attempt, delayMs, error });
    this.retryTimer = this.config.scheduler.schedule(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delayMs);
  }

  /** The error a session ends with once its retry budget is spent: the last cause, and how it came to that. */
  private givenUp(error: TranscriptionError, attempts: number): TranscriptionError {
    const cause = error.kind === 'breaker-open' ? this.lastConnectionError : undefined;
    const tries = attempts === 1 ? '1 connection' : `${attempts} connections`;
    const last = cause !== undefined ? `; the last failure: ${cause.message}` : '';
    return rephrased(error, `${error.message} (gave up after ${tries} that made no progress${last})`, {
      cause: cause ?? error,
    });
  }

  private onOpen(connection: Connection): void {
    this.connection = connection;
    this.opened += 1;
    if (this.opened > 1) this.tallies.reconnects += 1;
    this.openedAt = this.lastHeard = this.config.scheduler.now();
    for (const data of this.config.protocol.start()) this.connection.send(data);
    // Open is not yet a success: the retry budget waits for progress (ReconnectPolicy).
    this.report({ state: 'open', connections: this.opened });
    // The new connection starts where the unfinalised audio starts; it goes first.
    this.tallies.replayedMs += this.unfinalisedMs();
    const from = this.unfinalisedFrom;
    this.sendNext = this.answeredNext = from;
    this.offsetMs = from < this.store.end ? this.store.startMs(from) : this.audioMs;
    this.answeredMs = this.sentEndMs = this.connectionFinalEndMs = this.offsetMs;
    this.watchForSilence();
    if (this.opened === 1) this.demand.request(this.config.windowMs);
    this.pump();
  }

  /** A connection awaiting replies that hears nothing for deadAfterMs is dead (no FIN needed). */
  private watchForSilence(): void {
    const every = Math.max(10, Math.min(1000, this.config.deadAfterMs / 4));
    const check = (): void => {
      if (this.sendNext === this.answeredNext && this.endsAwaited === 0) {
        this.lastHeard = this.config.scheduler.now();
        return;
      }
      if (this.config.scheduler.now() - this.lastHeard >= this.config.deadAfterMs) {
        this.onLost(
          new TranscriptionError(
            `no reply from the server for ${this.config.deadAfterMs} ms with audio awaiting one: the connection is dead`,
            { kind: 'timeout', retryable: true },
          ),
        );
      }
    };
    // A periodic check on the session's scheduler (a marble test's virtual clock, too).
    this.stopDeadCheck = repeatEvery(this.config.scheduler, every, check);
  }

  /**
   * After maxConnectionMs, moves to a new connection right after a final, when
   * the least is unfinalised; that little is sent again first on the new one,
   * so the timeline has no gap and nothing is lost.
   */
  private maybeRotate(): void {
    const limit = this.config.maxConnectionMs;
    if (limit === undefined || this.connection === undefined || this.audioDone) return;
    if (this.config.scheduler.now() - this.openedAt < limit) return;
    this.policy.release();
    this.detach();
    this.connect('rotation');
  }

  /**
   * Subscribes the source through the three steps every frame takes: to 16-bit
   * mono at the server's rate, into frames, through flow control. The steps run
   * inline as plain objects (the state behind `toPcm16`, `frames` and
   * `controlled`): as operators they were three subscribers, observers and
   * closures per session and three hops per frame, a third of a session's heap.
   */
  private startAudio(): void {
    const { protocol, frameMs, maxBufferMs, overflow, scheduler } = this.config;
    const normaliser = new Pcm16Normaliser(protocol.sampleRate, 'transcribe');
    const framer = new Framer(frameMs);
    const flow = new FlowController(
      {
        demand: this.demand,
        maxBufferMs,
        overflow,
        prefetchMs: this.config.readAheadMs,
        stallMs: DEFAULT_STALL_MS,
        stats: this.flow,
        scheduler,
      },
      this,
    );
    this.intake = flow;
    const link = {
      demand: flow.upstream,
      notice: (notice: SourceNotice): void => {
        this.flow.trailingBytes += notice.bytes;
        this.events.notice(notice);
      },
    };
    this.audio = withUpstreamLink(this.source, link).subscribe({
      next: (chunk) => {
        try {
          const normalised = normaliser.push(chunk);
          if (normalised !== undefined) framer.push(normalised, flow);
        } catch (error) {
          flow.error(error);
        }
      },
      error: (error: unknown) => flow.error(error),
      complete: () => {
        const tail = normaliser.flush();
        if (tail !== undefined) framer.push(tail, flow);
        framer.flush(flow);
        flow.complete();
      },
    });
    flow.begin();
  }

  /** True once the session takes no more audio: its sink side, for flow control. */
  get closed(): boolean {
    return this.finished || this.audioDone;
  }

  /** A frame from flow control (16-bit mono at the server's rate). */
  next(frame: AudioChunk): void {
    // Positions count what is sent: audio dropped by the overflow policy leaves no gap.
    const durationMs = framesToMs(frame.samples.length, this.config.protocol.sampleRate);
    const startMs = this.audioMs;
    this.audioMs += durationMs;
    this.format ??= frame.format;
    // The normaliser makes every frame 16-bit; the store copies it, so the chunk can die young.
    this.store.append(frame.samples as Int16Array, startMs, this.audioMs);
    this.pump();
  }

  /** The audio failed (the source, a bad format, an overflow with policy 'error'). */
  error(error: unknown): void {
    this.fail(
      isTranscriptionError(error)
        ? error
        : badAudio(`the audio source failed: ${describeThrown(error)}`, error),
    );
  }

  /** The audio ended, and flow control has passed all of it on. */
  complete(): void {
    this.audioDone = true;
    this.report({ state: 'closing' });
    this.pump();
  }

  // --- sending -------------------------------------------------------------

  /**
   * Asks for a send pass. Passes run on the asap scheduler (a microtask; the
   * virtual clock in marble tests), so frames that arrive in one burst (a file
   * read, a run of replies freeing credit) leave the socket in one write
   * instead of one write each, which was most of the cost per frame.
   */
  private pump(): void {
    if (this.pumping || this.pumpScheduled) return;
    this.pumpScheduled = true;
    // One action per session, re-armed for each pass: a new action per frame was
    // about a tenth of the garbage a frame made, and garbage sets V8's collections going.
    if (this.pumpAction !== undefined) this.pumpAction.schedule();
    else asapScheduler.schedule(this.pumpWork);
  }
  private pumpAction: SchedulerAction<unknown> | undefined;
  private readonly pumpWork = ((session: TranscriptionSession) =>
    function pumpWork(this: SchedulerAction<unknown>): void {
      session.pumpAction = this;
      session.pumpTask();
    })(this);
  private pumpTask(): void {
    this.pumpScheduled = false;
    try {
      this.connection?.batch(this.pumpNowBound);
    } catch (error) {
      // A protocol's encoder or a socket that throws fails this session, not the process.
      this.fail(
        isTranscriptionError(error)
          ? error
          : new TranscriptionError(
              `the ${this.config.protocol.name} adapter or the socket failed to send: ${describeThrown(error)}`,
              { kind: 'protocol', retryable: false, cause: error },
            ),
      );
    }
  }
  private readonly pumpNowBound = (): void => this.pumpNow();
  private pumpScheduled = false;
  private readonly onSent = (): void => this.pump();

  /**
   * One pass: sends pending frames in order while the socket is under its
   * high-water mark (a "sent" callback asks for the next pass). A loop:
   * re-entrant calls fall through to the one running; nothing recurses.
   */
  private pumpNow(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const { protocol, highWaterBytes } = this.config;
      const store = this.store;
      while (this.connection !== undefined && this.connection.bufferedAmount < highWaterBytes) {
        if (this.sendNext === store.end) {
          if (this.audioDone && !this.endSentHere) this.sendEnd();
          break;
        }
        const seq = this.sendNext++;
        const samples = store.samples(seq);
        this.sentEndMs = store.endMs(seq);
        if (Number.isNaN(store.sentAt(seq))) {
          store.markSent(seq, this.config.scheduler.now());
          this.sent.frames += 1;
          this.sent.ms += store.endMs(seq) - store.startMs(seq);
          this.sent.bytes += samples.byteLength;
        }
        // A view of the store's memory: sockets copy what they are given (SocketDriver.send).
        const data = protocol.encodeAudio({ format: this.format!, samples });
        const size = typeof data === 'string' ? data.length * 3 : data.byteLength;
        // Only a send that may take the socket to its high-water mark needs to say when it
        // has left (to resume the loop); a callback on every frame was a second pass per frame.
        // The margin covers the WebSocket frame header.
        if (this.connection.bufferedAmount + size + 64 >= highWaterBytes) {
          this.connection.send(data, this.onSent);
        } else this.connection.send(data);
      }
    } finally {
      this.pumping = false;
    }
    this.boundReplay();
  }

  private sendEnd(): void {
    const connection = this.connection!;
    this.endSentHere = true;
    for (const data of this.config.protocol.end()) {
      this.endsAwaited += 1;
      connection.send(data);
    }
    // From the latest end-of-stream: a reconnect after it restarts the wait.
    this.finalTimer?.unsubscribe();
    this.finalTimer = this.config.scheduler.schedule(() => {
      this.fail(
        new TranscriptionError(`no final result within ${this.config.finalTimeoutMs} ms of end-of-stream`, {
          kind: 'timeout',
          retryable: true,
        }),
      );
    }, this.config.finalTimeoutMs);
  }

  /** Keeps the unfinalised audio within maxReplayMs by the overflow policy. */
  private boundReplay(): void {
    let held = this.unfinalisedMs();
    if (held <= this.config.maxReplayMs) return;
    if (this.config.overflow === 'error') {
      this.fail(
        new TranscriptionError(
          `the server has not finalised the last ${Math.round(held)} ms of audio, over the ${this.config.maxReplayMs} ms kept to resend (overflow: 'error')`,
          { kind: 'overflow', retryable: false },
        ),
      );
      return;
    }
    // Both drop policies give up the oldest unfinalised audio: it has been sent already;
    // only its second chance after a reconnect is lost, and that is counted.
    const store = this.store;
    while (held > this.config.maxReplayMs && this.sendNext - this.unfinalisedFrom > 1) {
      const dropped = this.unfinalisedFrom++;
      const ms = store.endMs(dropped) - store.startMs(dropped);
      held -= ms;
      this.tallies.replayDroppedMs += ms;
    }
    this.release();
  }

  /** Frames neither awaiting a reply nor unfinalised are not needed any more. */
  private release(): void {
    this.store.release(Math.min(this.unfinalisedFrom, this.answeredNext));
  }

  // --- receiving ------------------------------------------------------------

  private onMessage(data: WireMessage): void {
    if (this.finished) return;
    const protocol = this.config.protocol;
    if (this.endAnswered) {
      // Nothing follows the answer to end-of-stream but the close: this reply was counted for
      // another, so the one taken for the final answer was not it.
      this.fail(
        protocolError(
          protocol.name,
          'a message after its answer to end-of-stream: more replies than it was sent messages',
          data,
        ),
      );
      return;
    }
    let decoded: DecodedMessage;
    try {
      decoded = protocol.decode(data);
    } catch (error) {
      this.fail(
        isTranscriptionError(error)
          ? error
          : protocolError(protocol.name, `the decoder threw: ${describeThrown(error)}`, data),
      );
      return;
    }
    // Every check before anything is taken from the message: a bad one changes nothing.
    // (A protocol may hand back the message it decoded last, a repeated partial: its
    // results were checked then, and only the count of answers is checked again.)
    const problem = this.problemWith(decoded, decoded === this.lastDecoded);
    this.lastDecoded = decoded;
    if (problem !== undefined) {
      this.fail(protocolError(protocol.name, problem, data));
      return;
    }
    let endAnswered = false;
    const store = this.store;
    for (let i = 0; i < decoded.answers; i++) {
      if (this.answeredNext < this.sendNext) {
        const seq = this.answeredNext++;
        const endMs = store.endMs(seq);
        this.answeredMs = endMs;
        // Audio no connection had answered: the session moved on.
        if (endMs > this.answeredHighMs) {
          this.answeredHighMs = endMs;
          this.policy.progress();
        }
        // The server has consumed this audio: its room in the window is free again (once).
        const credit = store.takeCredit(seq);
        if (credit > 0) this.demand.request(credit);
      } else {
        this.endsAwaited -= 1;
        this.answeredMs = this.audioMs;
        endAnswered = true;
        this.policy.progress();
      }
    }
    if (this.finished) return;
    this.release();
    for (const result of decoded.results) this.emit(result);
    if (endAnswered && this.sendNext === this.answeredNext && this.endsAwaited === 0 && !this.finished) {
      // Completes on the server's close that follows (Vosk closes at once), or after a short
      // grace: a reply arriving before it shows the count was off, and is an error.
      this.endAnswered = true;
      this.finalTimer?.unsubscribe();
      this.finalTimer = this.config.scheduler.schedule(() => this.completeSession(), END_CLOSE_GRACE_MS);
    }
  }

  /** The transcript is whole: completes, closing the socket with 1000 if the server has not. */
  private completeSession(): void {
    if (this.finished) return;
    const subscriber = this.subscriber;
    this.report({ state: 'closed', code: 1000 });
    this.finished = true;
    this.dispose();
    subscriber.complete();
  }

  /** What makes a decoded message impossible for this session to take, if anything. */
  private problemWith(decoded: DecodedMessage, resultsChecked: boolean): string | undefined {
    if (typeof decoded !== 'object' || decoded === null) return 'the decoder gave no message';
    const answers = decoded.answers;
    if (!Number.isInteger(answers) || answers < 0) return `a message that answers ${answers} messages`;
    const results = decoded.results;
    if (!Array.isArray(results)) return 'a message without a result list';
    let hasFinal = false;
    for (let i = resultsChecked ? results.length : 0; i < results.length; i++) {
      const result = results[i]!;
      if (typeof result !== 'object' || result === null) return 'a result that is not an object';
      // Partials repeat with every reply (and carry no times in Vosk): only finals and timed results are checked.
      if (
        result.type === 'partial' &&
        Array.isArray(result.words) &&
        result.words.length === 0 &&
        result.endMs === undefined
      ) {
        if (typeof result.text !== 'string') return 'a result without text';
        continue;
      }
      const problem = resultProblem(result) ?? this.timelineProblem(result);
      if (problem !== undefined) return problem;
      if (result.type === 'final') hasFinal = true;
    }
    // More replies than messages: a doubled or extra reply, never an answer to audio to come.
    const awaited = this.sendNext - this.answeredNext + this.endsAwaited;
    if (answers > awaited) {
      return `${answers === 1 ? 'a reply' : `${answers} replies`} with ${awaited === 0 ? 'no message' : `only ${awaited}`} awaiting one: more replies than it was sent messages`;
    }
    // End-of-stream is answered by the final result, never by a partial (a reply counted twice).
    if (
      answers > this.sendNext - this.answeredNext &&
      !(hasFinal || results.some((r) => r.type === 'final'))
    ) {
      return 'a reply to end-of-stream without a final result: more replies than it was sent messages';
    }
    return undefined;
  }

  /**
   * A result whose times reach past the audio sent on this connection, or a
   * final that reaches back over the final before it on this connection
   * (beyond rounding, both). After a reconnect, finals over audio finalised on
   * an earlier connection are expected (the resent audio): those are dropped.
   */
  private timelineProblem(result: ProtocolResult): string | undefined {
    const sentMs = this.sentOnConnectionMs();
    const endMs = Math.max(result.endMs ?? 0, result.words.at(-1)?.endMs ?? 0);
    if (endMs > sentMs + RESULT_TIME_SLACK_MS) {
      return `times up to ${endMs} ms, past the ${Math.round(sentMs)} ms of audio sent on this connection`;
    }
    if (result.type === 'final') {
      const startMs = result.words[0]?.startMs ?? result.startMs;
      const previousEnd = this.connectionFinalEndMs - this.offsetMs;
      if (startMs !== undefined && startMs < previousEnd - RESULT_TIME_SLACK_MS) {
        return `a final from ${startMs} ms that reaches back over the final before it, which ended at ${Math.round(previousEnd)} ms`;
      }
    }
    return undefined;
  }

  /** Audio sent on the current connection, in its own time. */
  private sentOnConnectionMs(): number {
    return this.sentEndMs - this.offsetMs;
  }

  private emit(result: ProtocolResult): void {
    if (this.finished) return;
    if (result.type === 'partial') {
      // Servers repeat the running hypothesis with every reply: only changes are news.
      if (result.text === '' || result.text === this.lastPartial) return;
      this.lastPartial = result.text;
      this.firstPartialAt ??= this.config.scheduler.now();
      this.subscriber.next({
        type: 'partial',
        text: result.text,
        startMs: this.lastFinalEndMs,
        endMs: Math.max(this.lastFinalEndMs, this.answeredMs),
        words: [],
      });
      return;
    }
    this.lastPartial = '';
    // Onto the session's timeline, within the audio sent (a server's rounding may reach past it).
    const onTimeline = (ms: number): number => Math.min(ms + this.offsetMs, this.sentEndMs);
    const allWords: TranscriptWord[] = result.words.map((w) => ({
      ...w,
      startMs: onTimeline(w.startMs),
      endMs: onTimeline(w.endMs),
    }));
    // Words already emitted (before a reconnect) are not emitted again.
    const words = allWords.filter((w) => w.endMs > this.lastFinalEndMs);
    let startMs: number;
    let endMs: number;
    if (result.words.length > 0) {
      if (words.length === 0) return;
      startMs = words[0]!.startMs;
      endMs = words.at(-1)!.endMs;
    } else if (result.endMs !== undefined) {
      // A span of its own: settled already if it ends where the last final ended, or before.
      const spanEnd = onTimeline(result.endMs);
      if (spanEnd <= this.lastFinalEndMs && result.text !== '') return;
      startMs = Math.max(this.lastFinalEndMs, onTimeline(result.startMs ?? 0));
      endMs = Math.max(startMs, spanEnd);
    } else {
      // No times at all: the final settles the audio its message answered (Vosk's rule).
      startMs = this.lastFinalEndMs;
      endMs = Math.max(startMs, this.answeredMs);
    }
    if (endMs > this.connectionFinalEndMs) this.connectionFinalEndMs = endMs;
    if (endMs > this.lastFinalEndMs) {
      this.lastFinalEndMs = endMs;
      // Latency: from sending the frame that holds the utterance's last audio to now.
      const sentAt = this.sentAtOfFrameEndingBy(endMs);
      if (!Number.isNaN(sentAt) && result.text !== '') {
        const latency = this.config.scheduler.now() - sentAt;
        this.latencies.record(latency);
        this.events.finalLatency(latency);
      }
      this.finalise(endMs);
      this.policy.progress();
    }
    if (result.text === '') return; // an utterance of silence or noise: settled, nothing to say
    const text = words.length === result.words.length ? result.text : words.map((w) => w.text).join(' ');
    this.subscriber.next({ type: 'final', text, startMs, endMs, words });
    this.maybeRotate();
  }

  /** When the first unfinalised frame that reaches `endMs` was first sent (NaN if none). */
  private sentAtOfFrameEndingBy(endMs: number): number {
    for (let seq = this.unfinalisedFrom; seq < this.sendNext; seq++) {
      if (this.store.endMs(seq) >= endMs) return this.store.sentAt(seq);
    }
    return Number.NaN;
  }

  /** Audio up to `endMs` is settled: it need not be resent (a frame across it keeps its tail). */
  private finalise(endMs: number): void {
    const store = this.store;
    while (this.unfinalisedFrom < this.sendNext) {
      const head = this.unfinalisedFrom;
      if (store.endMs(head) <= endMs) {
        this.unfinalisedFrom += 1;
        continue;
      }
      const startMs = store.startMs(head);
      if (startMs < endMs) {
        // In place: an awaited reply to this frame still returns its credit once.
        const { sampleRate, channels } = this.format!;
        const cut = Math.round(((endMs - startMs) * sampleRate) / 1000);
        store.cutHead(head, cut * channels, framesToMs(cut, sampleRate));
      }
      break;
    }
    this.release();
  }

  private fail(error: unknown): void {
    if (this.finished) return;
    const subscriber = this.subscriber;
    const typed = scrubError(
      isTranscriptionError(error)
        ? error
        : new TranscriptionError(`transcription failed: ${describeThrown(error)}`, {
            kind: 'server',
            retryable: false,
            cause: error,
          }),
      this.config.secrets,
    );
    this.report({
      state: 'closed',
      ...(typed.closeCode !== undefined ? { code: typed.closeCode } : {}),
      error: typed,
    });
    this.finished = true;
    this.dispose();
    subscriber.error(typed);
  }
}

/** What was thrown, as a phrase: an Error's message, or what the value was. */
function describeThrown(error: unknown): string {
  return error instanceof Error ? error.message : describeValue(error);
}
