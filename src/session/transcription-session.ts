import {
  asyncScheduler,
  type Observable,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import { type AudioChunk, describeValue } from '../audio/audio-format.js';
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
import type {
  DecodedMessage,
  ProtocolCodec,
  ProtocolResult,
  RefusalClass,
  TranscriptionProtocol,
} from '../protocols/protocol.js';
import type { CircuitBreaker } from '../resilience/circuit-breaker.js';
import { clockOf } from '../timers/clock-of.js';
import { repeatAfter } from '../timers/repeat-every.js';
import type { TranscriptEvent } from '../transcript-event.js';
import type { SocketFactory, WireMessage } from '../transport/socket-driver.js';
import { type Connection, openConnection } from '../transport/websocket-connection.js';
import { decodedProblem } from './message-check.js';
import { type ReconnectConfig, ReconnectPolicy } from './reconnect-policy.js';
import { ReplayLedger } from './replay-ledger.js';
import { Sender, type SenderHost } from './sender.js';
import { LatencyRecorder, type SessionMetrics } from './session-metrics.js';
import type { SessionStatus, SessionStatusUpdate } from './session-status.js';
import { Timeline } from './timeline.js';

export type { ReconnectConfig };

/** How close to a frame's end a server's result may stop and still reach it (rounding of its times). */
const COVER_SLACK_MS = 5;

/** After its answer to end-of-stream, how long a server has to close before the session completes anyway. */
const END_CLOSE_GRACE_MS = 1000;

/** What a session needs to run (the resolved options of `transcribe`). */
export interface SessionConfig {
  /** The handshake's URL (the protocol's, with its query parameters). */
  readonly url: string;
  /** The URL as errors and logs show it: redacted, the safe query parameters kept. */
  readonly shownUrl?: string;
  readonly protocol: TranscriptionProtocol;
  /** Within the protocol's frame limits. */
  readonly frameMs: number;
  /** Audio sent and not yet answered, at most (for protocols without replies: not yet sent). */
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
  /** A connection with audio unanswered and nothing arriving for this long is dead. */
  readonly deadAfterMs: number;
  /** Move to a new connection after this long, where nothing is unfinalised. */
  readonly maxConnectionMs: number | undefined;
  readonly breaker: CircuitBreaker | undefined;
  /** The user's classification first, then the protocol's, then the standard table. */
  readonly classifyClose: ((code: number, reason: string) => CloseCodeClass | undefined) | undefined;
  /** How the protocol reads a refused handshake. */
  readonly refusal: ((status: number, body: string | undefined) => RefusalClass | undefined) | undefined;
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
 * One logical transcription, over as many connections as it takes. It wires
 * the parts: the audio intake (flow control, frame by frame, a loop), the
 * replay ledger (what is unfinalised and resent first on a new connection),
 * the timeline (each connection's times on one timeline, finals not emitted
 * twice), the sender (batches, high-water mark, pacing, keep-alive) and the
 * reconnect policy (a budget of connections that made no progress). Every
 * server message is checked before it touches the session. Completes once the
 * server has answered end-of-stream.
 */
export class TranscriptionSession implements SenderHost {
  private connection: Connection | undefined;
  private codec: ProtocolCodec | undefined;
  /** Drops the current connection (see openConnection). */
  private dropTransport: (() => void) | undefined;
  private audio: Subscription | undefined;
  private intake: FlowController | undefined;
  private readonly policy: ReconnectPolicy;
  private readonly ledger: ReplayLedger;
  private readonly timeline = new Timeline();
  private readonly sender: Sender;
  private readonly replies: boolean;
  /** Credit comes back as results reach the end of frames ('results'). */
  private readonly resultCredit: boolean;
  private readonly watchesAnswers: boolean;
  readonly demand = new Demand();
  readonly flow = new FlowStats();
  private readonly tallies = { reconnects: 0, replayedMs: 0 };
  private readonly latencies = new LatencyRecorder();
  private readonly startedAt: number;
  private firstPartialAt: number | undefined;
  private state: SessionStatus['state'] = 'connecting';
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
  private finalTimer: Subscription | undefined;
  private retryTimer: Subscription | undefined;
  private stopDeadCheck: (() => void) | undefined;
  /** Protocols that reply: where each control message sent (a flush) stands among the frames, as the `sendNext` it followed; answered in order. */
  private controlsAwaited: number[] = [];
  /** A protocol that waits for a ready message (AssemblyAI's `Begin`): the connection is lost without one in time. */
  private readyTimer: Subscription | undefined;

  private readonly report: (status: SessionStatusUpdate) => void;
  /** The clock (see `clockOf`): every time the session keeps is on it. */
  private readonly now: () => number;

  constructor(
    /** Counts the sessions of an operator from 1. */
    readonly id: number,
    private readonly config: SessionConfig,
    private readonly source: Observable<AudioChunk>,
    private readonly subscriber: Subscriber<TranscriptEvent>,
    private readonly events: SessionEvents,
  ) {
    const protocol = config.protocol;
    this.now = clockOf(config.scheduler);
    this.startedAt = this.now();
    this.replies = protocol.credit === undefined || protocol.credit === 'replies';
    this.resultCredit = protocol.credit === 'results';
    this.watchesAnswers = this.replies || protocol.answersAudio !== false;
    this.ledger = new ReplayLedger(protocol.sampleRate, config.frameMs, protocol.frameLimitsMs?.min ?? 0);
    this.sender = new Sender(this.ledger, this.timeline, this.demand, config, this);
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
    const sent = this.sender.sent;
    return {
      at: this.now(),
      session: this.id,
      state: this.state,
      audioSentMs: sent.ms,
      audioSentBytes: sent.bytes,
      framesSent: sent.frames,
      framesInFlight: this.sender.inFlight,
      bufferedMs: flow.bufferedMs,
      droppedMs: flow.droppedMs,
      replayedMs: this.tallies.replayedMs,
      reconnects: this.tallies.reconnects,
      trailingBytes: flow.trailingBytes,
      breakerState: this.config.breaker?.state,
      timeToFirstPartialMs:
        this.firstPartialAt === undefined ? undefined : this.firstPartialAt - this.startedAt,
      finalLatency: this.latencies.snapshot(),
      serverLagMs: Math.max(0, sent.ms - this.timeline.lastFinalEndMs),
      // Given back at the close (the store is cleared just after the closed status).
      audioHeldBytes: this.state === 'closed' ? 0 : this.ledger.store.capacityBytes,
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
    return {
      ...this.tallies,
      replayDroppedMs: this.ledger.droppedMs,
      unfinalisedMs: this.ledger.unfinalisedMs(),
    };
  }

  /**
   * Asks the server to finalise what it has heard so far (Deepgram's
   * `Finalize`), after the audio handed over before it. False when the
   * protocol cannot, or no connection is open.
   */
  flush(): boolean {
    const messages = this.codec?.flush?.();
    if (messages === undefined || this.finished || this.sender.endSentHere) return false;
    if (!this.sender.sendNow(messages)) return false;
    // Protocols that reply answer each of these too, after the frames sent before them.
    if (this.replies)
      for (let i = 0; i < messages.length; i++) this.controlsAwaited.push(this.ledger.sendNext);
    return true;
  }

  /** Releases the socket (closing it with 1000), the audio source and timers. */
  dispose(): void {
    if (!this.finished) this.report({ state: 'closed' });
    this.finished = true;
    this.clearTimers();
    this.sender.dispose();
    this.audio?.unsubscribe();
    this.intake?.stop();
    this.detach();
    this.ledger.clear();
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
    const { protocols, headers } = this.config;
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
        ...(headers !== undefined && Object.keys(headers).length > 0 ? { headers } : {}),
        ...(this.config.socketFactory !== undefined ? { socketFactory: this.config.socketFactory } : {}),
        ...(this.config.classifyClose !== undefined ? { classifyClose: this.config.classifyClose } : {}),
        ...(this.config.refusal !== undefined ? { refusal: this.config.refusal } : {}),
        ...(this.config.shownUrl !== undefined ? { shownUrl: this.config.shownUrl } : {}),
      },
      {
        open: (connection) => this.onOpen(connection),
        message: (data) => {
          this.lastHeard = this.now();
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
    this.codec = undefined;
    this.sender.detach();
    this.ledger.detach();
    this.controlsAwaited.length = 0;
    this.stopDeadCheck?.();
    this.stopDeadCheck = undefined;
    this.readyTimer?.unsubscribe();
    this.readyTimer = undefined;
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
    this.openedAt = this.lastHeard = this.now();
    // Open is not yet a success: the retry budget waits for progress (ReconnectPolicy).
    this.report({ state: 'open', connections: this.opened });
    // The new connection starts where the unfinalised audio starts; it goes first.
    this.tallies.replayedMs += this.ledger.unfinalisedMs();
    this.timeline.startConnection(this.ledger.rewind());
    this.lastDecoded = undefined;
    this.codec = this.config.protocol.codec();
    this.watchForSilence();
    if (this.config.protocol.awaitsReady === true) {
      // Nothing would ever go out: a server that never says it is ready is a failed connection.
      this.readyTimer = this.config.scheduler.schedule(() => {
        this.readyTimer = undefined;
        this.onLost(
          new TranscriptionError(
            `the server did not say it was ready for audio within ${this.config.connectTimeoutMs} ms of the connection opening`,
            { kind: 'timeout', retryable: true },
          ),
        );
      }, this.config.connectTimeoutMs);
    }
    if (this.opened === 1) this.demand.request(this.config.windowMs);
    this.sender.attach(connection, this.codec);
  }

  /** Something sent on this connection still awaits the server's answer. */
  private awaitingAnswer(): boolean {
    if (this.awaitingAudioAnswer()) return true;
    return this.replies ? this.sender.endsAwaited > 0 : this.sender.endSentHere;
  }

  /** Audio sent on this connection still awaits the server's answer. */
  private awaitingAudioAnswer(): boolean {
    if (this.replies || this.resultCredit) return this.ledger.sendNext !== this.ledger.answeredNext;
    return this.timeline.sentEndMs > this.timeline.answeredMs;
  }

  /**
   * A connection awaiting answers that hears nothing for deadAfterMs is dead (no FIN needed).
   * While nothing is awaited the silence clock restarts at each check (every quarter of
   * deadAfterMs, at most a second); while answers are awaited the next check is when the
   * silence would first reach deadAfterMs, so a stream whose server answers wakes it once
   * per deadAfterMs, not every second (a timer task costs a browser's main thread as much
   * as a frame).
   */
  private watchForSilence(): void {
    if (!this.watchesAnswers) return;
    const { deadAfterMs, scheduler } = this.config;
    const idleEvery = Math.max(10, Math.min(1000, deadAfterMs / 4));
    const check = (): number | undefined => {
      const now = this.now();
      if (!this.awaitingAnswer()) {
        this.lastHeard = now;
        return idleEvery;
      }
      const silentMs = now - this.lastHeard;
      if (silentMs < deadAfterMs) return deadAfterMs - silentMs;
      const what = this.awaitingAudioAnswer() ? 'audio' : 'end-of-stream';
      this.onLost(
        new TranscriptionError(
          `no reply from the server for ${deadAfterMs} ms with ${what} awaiting one: the connection is dead`,
          { kind: 'timeout', retryable: true },
        ),
      );
      return undefined;
    };
    this.stopDeadCheck = repeatAfter(scheduler, idleEvery, check);
  }

  /**
   * After maxConnectionMs, moves to a new connection right after a final, when
   * the least is unfinalised; that little is sent again first on the new one,
   * so the timeline has no gap and nothing is lost.
   */
  private maybeRotate(): void {
    const limit = this.config.maxConnectionMs;
    if (limit === undefined || this.connection === undefined || this.sender.audioDone) return;
    if (this.now() - this.openedAt < limit) return;
    this.policy.release();
    this.detach();
    this.connect('rotation');
  }

  /**
   * Subscribes the source through the three steps every frame takes: to 16-bit
   * mono at the server's rate, into frames, through flow control, into this
   * session. The steps run inline as plain objects (the state behind `toPcm16`,
   * `frames` and `controlled`), and here rather than in a module of their own:
   * as a function elsewhere the same code cost 15-20% more CPU per audio hour
   * (docs/performance.md, "The session split").
   */
  private startAudio(): void {
    const { protocol, frameMs, maxBufferMs, overflow, scheduler, readAheadMs } = this.config;
    const normaliser = new Pcm16Normaliser(protocol.sampleRate, 'transcribe');
    const framer = new Framer(frameMs);
    const flow = new FlowController(
      {
        demand: this.demand,
        maxBufferMs,
        overflow,
        prefetchMs: readAheadMs,
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
    return this.finished || this.sender.audioDone;
  }

  /** A frame from flow control (16-bit mono at the server's rate). */
  next(frame: AudioChunk): void {
    this.ledger.append(frame);
    this.sender.frameAdded();
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
    this.sender.audioDone = true;
    this.report({ state: 'closing' });
    this.sender.pump();
  }

  // --- sending (the sender's host) -----------------------------------------

  /** A send pass ended: the unfinalised audio is kept within its bound. */
  sendPassed(): void {
    this.boundReplay();
  }

  /** A protocol's encoder or a socket that throws fails this session, not the process. */
  sendFailed(error: unknown): void {
    this.fail(
      isTranscriptionError(error)
        ? error
        : new TranscriptionError(
            `the ${this.config.protocol.name} adapter or the socket failed to send: ${describeThrown(error)}`,
            { kind: 'protocol', retryable: false, cause: error },
          ),
    );
  }

  /** End-of-stream went out: the wait for its answer starts. */
  endSent(): void {
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
    const held = this.ledger.unfinalisedMs();
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
    this.ledger.dropOldest(this.config.maxReplayMs);
  }

  // --- receiving ------------------------------------------------------------

  private onMessage(data: WireMessage): void {
    if (this.finished) return;
    const protocol = this.config.protocol;
    if (this.endAnswered) {
      // Nothing follows the answer to end-of-stream but the close: for a protocol that replies,
      // this reply was counted for another, so the one taken for the final answer was not it.
      this.fail(
        protocolError(
          protocol.name,
          this.replies
            ? 'a message after its answer to end-of-stream: more replies than it was sent messages'
            : 'a message after its answer to end-of-stream',
          data,
        ),
      );
      return;
    }
    let decoded: DecodedMessage;
    try {
      decoded = this.codec!.decode(data);
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
    const problem = decodedProblem(
      decoded,
      decoded === this.lastDecoded,
      this.timeline,
      this.replies ? this.ledger.sendNext - this.ledger.answeredNext + this.controlsAwaited.length : -1,
      this.sender.endsAwaited,
    );
    this.lastDecoded = decoded;
    if (problem !== undefined) {
      this.fail(protocolError(protocol.name, problem, data));
      return;
    }
    if (decoded.error !== undefined) {
      this.onLost(
        isTranscriptionError(decoded.error) ? decoded.error : protocolError(protocol.name, 'an error', data),
      );
      return;
    }
    const endAnswered = this.replies ? this.takeAnswers(decoded.answers ?? 0) : this.takeSpans(decoded);
    if (this.finished) return;
    if (decoded.ready === true) {
      this.readyTimer?.unsubscribe();
      this.readyTimer = undefined;
      this.sender.markReady();
    }
    for (const result of decoded.results) this.emit(result);
    if (decoded.utteranceEndMs !== undefined && !this.finished) {
      const event = this.timeline.utteranceEnd(decoded.utteranceEndMs);
      if (event !== undefined) this.subscriber.next(event);
    }
    if (this.finished) return;
    const ended = this.replies
      ? endAnswered &&
        this.ledger.sendNext === this.ledger.answeredNext &&
        this.sender.endsAwaited === 0 &&
        this.controlsAwaited.length === 0
      : decoded.ended === true && this.sender.endSentHere;
    if (ended) {
      if (!this.replies) this.policy.progress();
      // Completes on the server's close that follows (Vosk and Deepgram close at once), or after
      // a short grace: a message arriving before it is an error.
      this.endAnswered = true;
      this.finalTimer?.unsubscribe();
      // A server that does not close after its answer (OpenAI's): the client closes it now.
      if (this.config.protocol.closesAfterEnd === false) {
        this.completeSession();
        return;
      }
      this.finalTimer = this.config.scheduler.schedule(() => this.completeSession(), END_CLOSE_GRACE_MS);
    }
  }

  /** Protocols that reply: the messages this one answers, in order. True when it answered end-of-stream. */
  private takeAnswers(answers: number): boolean {
    let endAnswered = false;
    const ledger = this.ledger;
    const store = ledger.store;
    for (let i = 0; i < answers; i++) {
      // A control message (a flush) sent once the frames before it were: its answer comes next.
      if (this.controlsAwaited.length > 0 && this.controlsAwaited[0] === ledger.answeredNext) {
        this.controlsAwaited.shift();
      } else if (ledger.answeredNext < ledger.sendNext) {
        const seq = ledger.answeredNext++;
        // Audio no connection had answered: the session moved on.
        if (this.timeline.answered(store.endMs(seq))) this.policy.progress();
        // The server has consumed this audio: its room in the window is free again (once).
        const credit = store.takeCredit(seq);
        if (credit > 0) this.demand.request(credit);
      } else {
        this.sender.endsAwaited -= 1;
        this.timeline.answered(ledger.audioMs);
        endAnswered = true;
        this.policy.progress();
      }
    }
    ledger.release();
    return endAnswered;
  }

  /**
   * Protocols without replies: a result's times say how far the server has
   * heard. With `'results'` credit, the frames they reach give their room in
   * the window back (once).
   */
  private takeSpans(decoded: DecodedMessage): boolean {
    const timeline = this.timeline;
    const before = timeline.answeredMs;
    for (const result of decoded.results) {
      const end = Timeline.endOf(result);
      if (end > 0 && timeline.answered(Math.min(end + timeline.offsetMs, timeline.sentEndMs))) {
        this.policy.progress();
      }
    }
    if (this.resultCredit && timeline.answeredMs > before) {
      const ledger = this.ledger;
      const store = ledger.store;
      // Servers' times are rounded (Deepgram's to the ms, from seconds): a frame ending within
      // a few ms of the result's end is reached.
      const reached = timeline.answeredMs + COVER_SLACK_MS;
      while (ledger.answeredNext < ledger.sendNext && store.endMs(ledger.answeredNext) <= reached) {
        const credit = store.takeCredit(ledger.answeredNext++);
        if (credit > 0) this.demand.request(credit);
      }
      ledger.release();
    }
    return false;
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

  private emit(result: ProtocolResult): void {
    if (this.finished) return;
    const timeline = this.timeline;
    if (result.type === 'partial') {
      const event = timeline.partial(result);
      if (event === undefined) return;
      this.firstPartialAt ??= this.now();
      this.subscriber.next(event);
      return;
    }
    const { event, settledMs } = timeline.final(result);
    if (settledMs !== undefined) {
      // Latency: from sending the frame that holds the utterance's last audio to now.
      const sentAt = this.ledger.sentAtOfFrameEndingBy(event?.endMs ?? settledMs);
      if (!Number.isNaN(sentAt) && event !== undefined) {
        const latency = this.now() - sentAt;
        this.latencies.record(latency);
        this.events.finalLatency(latency);
      }
      this.ledger.finalise(settledMs);
      this.policy.progress();
    }
    if (event === undefined) return;
    this.subscriber.next(event);
    this.maybeRotate();
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
