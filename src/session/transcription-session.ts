import {
  asapScheduler,
  asyncScheduler,
  type Observable,
  type SchedulerAction,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';
import { type AudioChunk, framesToMs } from '../audio/audio-format.js';
import { Framer } from '../audio/framer.js';
import { Pcm16Normaliser } from '../audio/pcm16-normaliser.js';
import type { CloseCodeClass } from '../errors/close-codes.js';
import { scrubError, secretsOf } from '../errors/redact.js';
import { isTranscriptionError, TranscriptionError } from '../errors/transcription-error.js';
import { Demand, withUpstreamDemand } from '../flow/demand.js';
import { DEFAULT_STALL_MS, FlowController, type OverflowPolicy } from '../flow/flow-controller.js';
import { FlowStats } from '../flow/flow-stats.js';
import { type BackoffSchedule, backoffDelay } from '../operators/retry-backoff.js';
import type { ProtocolResult, TranscriptionProtocol } from '../protocols/protocol.js';
import type { BreakerTicket, CircuitBreaker } from '../resilience/circuit-breaker.js';
import type { TranscriptEvent, TranscriptWord } from '../transcript-event.js';
import type { SocketFactory, WireMessage } from '../transport/socket-driver.js';
import { type Connection, openConnection } from '../transport/websocket-connection.js';
import { FrameStore } from './frame-store.js';
import { LatencyRecorder, type SessionMetrics } from './session-metrics.js';
import type { SessionStatus } from './session-status.js';

/** How a session reconnects (resolved options). */
export interface ReconnectConfig extends BackoffSchedule {
  readonly maxRetries: number;
  readonly random: () => number;
}

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
  /** The clock and timers (retry delays, dead-socket checks, the final's timeout). */
  readonly scheduler: SchedulerLike;
  readonly headers?: Readonly<Record<string, string>>;
  readonly protocols?: readonly string[];
  readonly socketFactory?: SocketFactory;
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
 * emitted again. Completes after the final that follows end-of-stream.
 */
export class TranscriptionSession {
  private connection: Connection | undefined;
  /** Drops the current connection (see openConnection). */
  private dropTransport: (() => void) | undefined;
  private audio: Subscription | undefined;
  private intake: FlowController | undefined;
  private ticket: BreakerTicket | undefined;
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
  private lastFinalEndMs = 0;
  private lastPartial = '';
  private finished = false;
  private opened = 0;
  private attempt = 0;
  private openedAt = 0;
  private lastHeard = 0;
  private finalTimer: Subscription | undefined;
  private retryTimer: Subscription | undefined;
  private deadTimer: Subscription | undefined;

  private readonly report: (status: SessionStatus) => void;
  private readonly secrets: readonly string[];

  constructor(
    private readonly config: SessionConfig,
    private readonly source: Observable<AudioChunk>,
    private readonly subscriber: Subscriber<TranscriptEvent>,
    report: (status: SessionStatus) => void,
    private readonly onFinalLatency: (ms: number) => void = () => {},
  ) {
    this.startedAt = config.scheduler.now();
    this.store = new FrameStore(Math.ceil((config.frameMs * config.protocol.sampleRate) / 1000));
    this.secrets = secretsOf(config.url, config.headers);
    this.report = (status) => {
      this.state = status.state;
      // No token, key or credential of the URL or headers leaves in a status.
      if ((status.state === 'reconnecting' || status.state === 'closed') && status.error !== undefined) {
        report({ ...status, error: scrubError(status.error, this.secrets) });
      } else report(status);
    };
  }

  /** A snapshot of what the session is doing; `sample` adds what the platform can tell. */
  metrics(
    sample: { heapUsedBytes?: number; eventLoopDelayMs?: number } = {},
  ): Omit<SessionMetrics, 'session'> {
    const flow = this.flow;
    return {
      at: Date.now(),
      state: this.state,
      audioSentMs: this.sent.ms,
      audioSentBytes: this.sent.bytes,
      framesSent: this.sent.frames,
      framesInFlight: this.sendNext - this.answeredNext,
      bufferedMs: flow.bufferedMs,
      droppedMs: flow.droppedMs,
      replayedMs: this.tallies.replayedMs,
      reconnects: this.tallies.reconnects,
      breakerState: this.config.breaker?.state,
      timeToFirstPartialMs:
        this.firstPartialAt === undefined ? undefined : this.firstPartialAt - this.startedAt,
      finalLatency: this.latencies.snapshot(),
      serverLagMs: Math.max(0, this.sent.ms - this.lastFinalEndMs),
      audioHeldBytes: this.store.capacityBytes,
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
    this.deadTimer?.unsubscribe();
    this.finalTimer = this.retryTimer = this.deadTimer = undefined;
  }

  // --- connections -------------------------------------------------------

  private connect(reason?: 'rotation'): void {
    this.report({ state: 'connecting', attempt: this.attempt, ...(reason ? { reason } : {}) });
    const ticket = this.config.breaker?.acquire();
    if (ticket instanceof Error) {
      this.onLost(ticket, false);
      return;
    }
    this.ticket = ticket;
    const extra = this.config.protocol.connectOptions?.() ?? {};
    const protocols = this.config.protocols ?? extra.protocols;
    const headers = { ...extra.headers, ...this.config.headers };
    let open = false;
    // A connection that fails at once has reported it before this returns: the
    // function kept then is a no-op, replaced at the next attempt.
    this.dropTransport = openConnection(
      {
        url: this.config.url,
        connectTimeoutMs: this.config.connectTimeoutMs,
        heartbeat: { intervalMs: this.config.deadAfterMs / 2, timeoutMs: this.config.deadAfterMs },
        ...(protocols !== undefined ? { protocols } : {}),
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
        ...(this.config.socketFactory !== undefined ? { socketFactory: this.config.socketFactory } : {}),
        ...(this.config.classifyClose !== undefined ? { classifyClose: this.config.classifyClose } : {}),
      },
      {
        open: (connection) => {
          open = true;
          this.onOpen(connection);
        },
        message: (data) => {
          this.lastHeard = this.config.scheduler.now();
          this.onMessage(data);
        },
        end: () => {
          if (this.finished) return;
          const error = new TranscriptionError(
            'the server closed the connection (1000) before the final result',
            { kind: 'server', retryable: true, closeCode: 1000 },
          );
          this.onLost(error, open);
        },
        error: (error) => this.onLost(error, open),
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
    this.deadTimer?.unsubscribe();
    this.deadTimer = undefined;
    this.ticket?.release();
    this.ticket = undefined;
    drop?.();
  }

  private onLost(error: unknown, wasOpen: boolean): void {
    if (this.finished) return;
    if (!wasOpen && isTranscriptionError(error) && error.kind !== 'breaker-open') this.ticket?.failure();
    this.detach();
    const reconnect = this.config.reconnect;
    const retryable = isTranscriptionError(error) && error.retryable;
    if (reconnect === undefined || !retryable || this.attempt >= reconnect.maxRetries) {
      this.fail(error);
      return;
    }
    this.attempt += 1;
    const delayMs = backoffDelay(reconnect, this.attempt, this.lastDelay, reconnect.random);
    this.lastDelay = delayMs;
    this.report({
      state: 'reconnecting',
      attempt: this.attempt,
      delayMs,
      error: error as TranscriptionError,
    });
    this.retryTimer = this.config.scheduler.schedule(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delayMs);
  }
  private lastDelay = 0;

  private onOpen(connection: Connection): void {
    this.connection = connection;
    this.opened += 1;
    if (this.opened > 1) this.tallies.reconnects += 1;
    this.openedAt = this.lastHeard = this.config.scheduler.now();
    for (const data of this.config.protocol.start()) this.connection.send(data);
    // Open and configured: a success for the breaker and the retry count.
    this.ticket?.success();
    this.ticket = undefined;
    this.attempt = 0;
    this.lastDelay = 0;
    this.report({ state: 'open', connections: this.opened });
    // The new connection starts where the unfinalised audio starts; it goes first.
    this.tallies.replayedMs += this.unfinalisedMs();
    const from = this.unfinalisedFrom;
    this.sendNext = this.answeredNext = from;
    this.offsetMs = from < this.store.end ? this.store.startMs(from) : this.audioMs;
    this.answeredMs = this.offsetMs;
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
          true,
        );
      }
    };
    // A periodic check on the session's scheduler (a marble test's virtual clock, too).
    this.deadTimer = this.config.scheduler.schedule(function tick(this: SchedulerAction<unknown>) {
      check();
      this.schedule(undefined, every);
    }, every);
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
    const { protocol, frameMs, maxBufferMs, overflow } = this.config;
    const normaliser = new Pcm16Normaliser(protocol.sampleRate);
    const framer = new Framer(frameMs);
    const flow = new FlowController(
      {
        demand: this.demand,
        maxBufferMs,
        overflow,
        prefetchMs: this.config.readAheadMs,
        stallMs: DEFAULT_STALL_MS,
        stats: this.flow,
        scheduler: asyncScheduler,
      },
      this,
    );
    this.intake = flow;
    this.audio = withUpstreamDemand(flow.upstream, () =>
      this.source.subscribe({
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
      }),
    );
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
    this.fail(error);
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
      this.fail(error);
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
    let decoded: ReturnType<TranscriptionProtocol['decode']>;
    try {
      decoded = this.config.protocol.decode(data);
    } catch (error) {
      this.fail(error);
      return;
    }
    let endAnswered = false;
    const store = this.store;
    for (let i = 0; i < decoded.answers; i++) {
      if (this.answeredNext < this.sendNext) {
        const seq = this.answeredNext++;
        this.answeredMs = store.endMs(seq);
        // The server has consumed this audio: its room in the window is free again (once).
        const credit = store.takeCredit(seq);
        if (credit > 0 && !this.finished) this.demand.request(credit);
      } else if (this.endsAwaited > 0) {
        this.endsAwaited -= 1;
        this.answeredMs = this.audioMs;
        endAnswered = true;
      } else {
        this.fail(
          new TranscriptionError(
            `the ${this.config.protocol.name} server sent more replies than it was sent messages`,
            {
              kind: 'protocol',
              retryable: false,
            },
          ),
        );
        return;
      }
    }
    if (this.finished) return;
    this.release();
    for (const result of decoded.results) this.emit(result);
    if (endAnswered && this.sendNext === this.answeredNext && this.endsAwaited === 0 && !this.finished) {
      const subscriber = this.subscriber;
      this.report({ state: 'closed', code: 1000 });
      this.finished = true;
      this.dispose();
      subscriber.complete();
    }
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
    if (result.text === '') return; // an utterance of silence or noise
    // Onto the session's timeline; words already emitted (before a reconnect) are not again.
    const words: TranscriptWord[] = result.words
      .map((w) => ({ ...w, startMs: w.startMs + this.offsetMs, endMs: w.endMs + this.offsetMs }))
      .filter((w) => w.endMs > this.lastFinalEndMs);
    if (result.words.length > 0 && words.length === 0) return;
    const text = words.length === result.words.length ? result.text : words.map((w) => w.text).join(' ');
    const startMs = words[0]?.startMs ?? this.lastFinalEndMs;
    const endMs = words.at(-1)?.endMs ?? Math.max(startMs, this.answeredMs);
    this.lastFinalEndMs = endMs;
    if (words.length > 0) {
      // Latency: from sending the frame that holds the utterance's last audio to now.
      const sentAt = this.sentAtOfFrameEndingBy(endMs);
      if (!Number.isNaN(sentAt)) {
        const latency = this.config.scheduler.now() - sentAt;
        this.latencies.record(latency);
        this.onFinalLatency(latency);
      }
      this.finalise(endMs);
    }
    this.subscriber.next({ type: 'final', text, startMs, endMs, words });
    if (words.length > 0) this.maybeRotate();
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
        : new TranscriptionError(`transcription failed: ${(error as Error)?.message ?? String(error)}`, {
            kind: 'server',
            retryable: false,
            cause: error,
          }),
      this.secrets,
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
