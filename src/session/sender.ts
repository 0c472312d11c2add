import { asapScheduler, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Demand } from '../flow/demand.js';
import type { ProtocolCodec, TranscriptionProtocol } from '../protocols/protocol.js';
import { clockOf, onWallClock } from '../timers/clock-of.js';
import { repeatEvery } from '../timers/repeat-every.js';
import type { WireMessage } from '../transport/socket-driver.js';
import type { Connection } from '../transport/websocket-connection.js';
import type { ReplayLedger } from './replay-ledger.js';
import type { Timeline } from './timeline.js';

/** What the sender tells its session. */
export interface SenderHost {
  /** A send pass ended (the session keeps the replay within its bound). */
  sendPassed(): void;
  /** The protocol's encoder or the socket threw. */
  sendFailed(error: unknown): void;
  /** The end-of-stream messages went out on this connection. */
  endSent(): void;
}

/** What the sender needs of the session's configuration. */
export interface SenderConfig {
  readonly protocol: TranscriptionProtocol;
  readonly highWaterBytes: number;
  readonly scheduler: SchedulerLike;
}

/** The audio sent so far (first sends only: a replay is not counted twice). */
export interface SentCounts {
  frames: number;
  ms: number;
  bytes: number;
}

/**
 * Sends a session's frames on its current connection: in order, in batches
 * (one pass per microtask, so a burst leaves in one write), under the
 * socket's high-water mark, no faster than real time where the protocol says
 * so, with the protocol's keep-alive whenever no audio has gone out for a
 * while, and end-of-stream once all the audio is out. Passes are a loop:
 * re-entrant calls fall through to the one running; nothing recurses.
 */
export class Sender {
  private connection: Connection | undefined;
  private codec: ProtocolCodec | undefined;
  /** Audio may go out on this connection (the server said it is ready, where the protocol waits for that). */
  private ready = false;
  /** End-of-stream went out on this connection. */
  endSentHere = false;
  /** End-of-stream messages awaiting their replies on this connection (protocols that reply). */
  endsAwaited = 0;
  /** The audio has ended: end-of-stream follows the last frame. */
  audioDone = false;
  readonly sent: SentCounts = { frames: 0, ms: 0, bytes: 0 };
  private readonly drainCredit: boolean;
  private readonly realtime: boolean;
  private readonly minSamples: number;
  /** Real-time pacing: when this connection's first audio went out, and where it starts. */
  private pacedFromAt = Number.NaN;
  private pacedFromMs = 0;
  private paceTimer: Subscription | undefined;
  private lastAudioAt = 0;
  private stopKeepAlive: (() => void) | undefined;
  private pumping = false;
  private pumpScheduled = false;
  /**
   * At least what the socket holds: its last reading plus what was sent since (Infinity: read it
   * next). Its buffer only shrinks on its own, so the bound is safe; the socket is asked again
   * only once the bound reaches half the high-water mark (a read is a call into the platform,
   * about 5 µs of a browser's main thread).
   */
  private bufferedBound = Number.POSITIVE_INFINITY;
  /** This connection's socket cannot batch, and passes need not wait for a virtual clock: see `frameAdded`. */
  private sendsAtOnce = false;
  /** Passes run in a plain microtask, unless a virtual clock must see them (see `pump`). */
  private readonly microtasks: boolean;
  private readonly pumpMicrotask = (): void => this.pumpTask();
  private pumpAction: SchedulerAction<unknown> | undefined;
  private readonly pumpWork = ((sender: Sender) =>
    function pumpWork(this: SchedulerAction<unknown>): void {
      sender.pumpAction = this;
      sender.pumpTask();
    })(this);
  private readonly passBound = (): void => this.pass();
  private readonly onSent = (): void => this.pump();
  /** The session's clock (see `clockOf`). */
  private readonly now: () => number;

  constructor(
    private readonly ledger: ReplayLedger,
    private readonly timeline: Timeline,
    private readonly demand: Demand,
    private readonly config: SenderConfig,
    private readonly host: SenderHost,
  ) {
    const protocol = config.protocol;
    this.microtasks = onWallClock(config.scheduler);
    this.now = clockOf(config.scheduler);
    this.drainCredit = protocol.credit === 'drain';
    this.realtime = protocol.realtime === true;
    this.minSamples = Math.ceil(((protocol.frameLimitsMs?.min ?? 0) * protocol.sampleRate) / 1000);
  }

  /** Frames sent on this connection and not yet answered (protocols that reply). */
  get inFlight(): number {
    return this.ledger.sendNext - this.ledger.answeredNext;
  }

  /** A new connection: its start messages go out now, and audio once it is ready. */
  attach(connection: Connection, codec: ProtocolCodec): void {
    this.connection = connection;
    this.codec = codec;
    this.sendsAtOnce = this.microtasks && !connection.batches;
    this.endSentHere = false;
    this.endsAwaited = 0;
    this.pacedFromAt = Number.NaN;
    for (const data of codec.start()) this.sendOther(connection, data);
    const keepAlive = this.config.protocol.keepAlive;
    if (keepAlive !== undefined) {
      this.lastAudioAt = this.now();
      this.stopKeepAlive = repeatEvery(this.config.scheduler, Math.max(10, keepAlive.idleMs / 3), () =>
        this.keepAlive(keepAlive.message, keepAlive.idleMs),
      );
    }
    this.ready = this.config.protocol.awaitsReady !== true;
    this.pump();
  }

  /** The server said it is ready for audio. */
  markReady(): void {
    if (this.ready) return;
    this.ready = true;
    this.pump();
  }

  /** The connection is gone: nothing more goes out until the next one. */
  detach(): void {
    this.connection = undefined;
    this.codec = undefined;
    this.sendsAtOnce = false;
    this.bufferedBound = Number.POSITIVE_INFINITY;
    this.endSentHere = false;
    this.endsAwaited = 0;
    this.stopKeepAlive?.();
    this.stopKeepAlive = undefined;
    this.paceTimer?.unsubscribe();
    this.paceTimer = undefined;
  }

  /** Stops for good (the session has ended). */
  dispose(): void {
    this.detach();
    this.pumpScheduled = false;
    this.pumpAction?.unsubscribe();
  }

  /**
   * A frame was handed over. Where a socket writes each message alone anyway
   * (the browser's WebSocket), a pass waiting for the end of the burst gains
   * nothing and costs a microtask per frame: the frame goes out now.
   */
  frameAdded(): void {
    if (!this.sendsAtOnce || this.pumping || this.pumpScheduled) {
      this.pump();
      return;
    }
    this.pumpScheduled = true;
    this.pumpTask();
  }

  /** Sends control messages now, after the frames handed over before them (a flush). */
  sendNow(messages: readonly WireMessage[]): boolean {
    const connection = this.connection;
    if (connection === undefined) return false;
    this.pass();
    for (const data of messages) this.sendOther(connection, data);
    return true;
  }

  private keepAlive(message: WireMessage, idleMs: number): void {
    const connection = this.connection;
    if (connection === undefined || this.endSentHere) return;
    const now = this.now();
    if (now - this.lastAudioAt < idleMs) return;
    this.lastAudioAt = now;
    this.sendOther(connection, message);
  }

  /** A message other than audio: the socket's buffer is read again before the next frame. */
  private sendOther(connection: Connection, data: WireMessage): void {
    this.bufferedBound = Number.POSITIVE_INFINITY;
    connection.send(data);
  }

  /** At least what the socket holds (see `bufferedBound`). */
  private socketBuffered(connection: Connection): number {
    if (this.bufferedBound < this.config.highWaterBytes / 2) return this.bufferedBound;
    this.bufferedBound = connection.bufferedAmount;
    return this.bufferedBound;
  }

  /**
   * Asks for a send pass. Passes run in a microtask, so frames that arrive in
   * one burst (a file read, a run of replies freeing credit) leave the socket
   * in one write instead of one write each, which was most of the cost per
   * frame. With a scheduler of the user's, or inside a TestScheduler's `run`,
   * they run on the asap scheduler instead, so that a virtual clock sees them.
   */
  pump(): void {
    if (this.pumping || this.pumpScheduled) return;
    this.pumpScheduled = true;
    // A plain microtask: the asap scheduler's bound flush and promise per pass were a quarter of
    // the garbage a frame made (docs/performance.md), and garbage sets V8's collections going.
    if (this.microtasks) queueMicrotask(this.pumpMicrotask);
    else if (this.pumpAction !== undefined) this.pumpAction.schedule();
    else asapScheduler.schedule(this.pumpWork);
  }

  private pumpTask(): void {
    if (!this.pumpScheduled) return; // disposed since it was asked for
    this.pumpScheduled = false;
    try {
      this.connection?.batch(this.passBound);
    } catch (error) {
      // A protocol's encoder or a socket that throws fails this session, not the process.
      this.host.sendFailed(error);
    }
  }

  /**
   * One pass: sends pending frames in order while the socket is under its
   * high-water mark (a "sent" callback asks for the next pass).
   */
  private pass(): void {
    if (this.pumping) return;
    this.pumping = true;
    let sentAudio = false;
    try {
      const { highWaterBytes } = this.config;
      const ledger = this.ledger;
      const store = ledger.store;
      const codec = this.codec;
      const timeline = this.timeline;
      while (this.ready && codec !== undefined && this.connection !== undefined) {
        const seq = ledger.sendNext;
        if (seq === store.end) {
          if (this.audioDone && !this.endSentHere && this.socketBuffered(this.connection) < highWaterBytes) {
            this.sendEnd(codec);
          }
          break;
        }
        const buffered = this.socketBuffered(this.connection);
        if (buffered >= highWaterBytes) break;
        if (this.realtime && !this.paceAllows(store.startMs(seq))) break;
        ledger.sendNext = seq + 1;
        let samples = store.samples(seq);
        const endMs = store.endMs(seq);
        timeline.sentEndMs = endMs;
        if (store.markFirstSent(seq, this.now())) {
          this.sent.frames += 1;
          this.sent.ms += endMs - store.startMs(seq);
          this.sent.bytes += samples.byteLength;
        }
        if (this.drainCredit) {
          // No reply will come: the frame's room in the window is free once it is handed over.
          ledger.answeredNext = seq + 1;
          const credit = store.takeCredit(seq);
          if (credit > 0) this.demand.request(credit);
        }
        // Only the last frame can be short of the protocol's shortest: it is padded with silence.
        if (samples.length < this.minSamples) samples = padded(samples, this.minSamples);
        // A view of the store's memory: sockets copy what they are given (SocketDriver.send).
        const data = codec.encodeAudio({ format: ledger.format!, samples });
        sentAudio = true;
        const size = typeof data === 'string' ? data.length * 3 : data.byteLength;
        // Only a send that may take the socket to its high-water mark needs to say when it
        // has left (to resume the loop); a callback on every frame was a second pass per frame.
        // The margin covers the WebSocket frame header.
        this.bufferedBound = buffered + size + 64;
        if (this.bufferedBound >= highWaterBytes) {
          this.connection.send(data, this.onSent);
        } else this.connection.send(data);
      }
    } finally {
      this.pumping = false;
    }
    if (sentAudio && this.stopKeepAlive !== undefined) this.lastAudioAt = this.now();
    if (this.drainCredit) this.ledger.release();
    this.host.sendPassed();
  }

  /** Real time: a frame goes once the wall time since this connection's first audio has reached its start. */
  private paceAllows(startMs: number): boolean {
    const now = this.now();
    if (Number.isNaN(this.pacedFromAt)) {
      this.pacedFromAt = now;
      this.pacedFromMs = startMs;
      return true;
    }
    const waitMs = startMs - this.pacedFromMs - (now - this.pacedFromAt);
    if (waitMs <= 0) return true;
    if (this.paceTimer === undefined) {
      this.paceTimer = this.config.scheduler.schedule(() => {
        this.paceTimer = undefined;
        this.pump();
      }, waitMs);
    }
    return false;
  }

  private sendEnd(codec: ProtocolCodec): void {
    const connection = this.connection!;
    this.endSentHere = true;
    for (const data of codec.end()) {
      this.endsAwaited += 1;
      this.sendOther(connection, data);
    }
    this.host.endSent();
  }
}

/** The samples followed by silence up to `length`. */
function padded(samples: Int16Array, length: number): Int16Array {
  const out = new Int16Array(length);
  out.set(samples);
  return out;
}
