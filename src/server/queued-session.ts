import type { WebSocket } from 'ws';
import { CloseCode, closeReason } from './client-message.js';
import type { ServerMetrics } from './server-metrics.js';

/** What the server counts of its sessions (a base for its metrics). */
export interface SessionCounters {
  /** Bytes of audio handed to engines. */
  audioBytes: number;
  /** The most bytes any session held queued at once. */
  peakQueuedBytes: number;
  /** Sessions closed by a refusal or failure, by close code. */
  closedWithError: Record<number, number>;
  /** Every closed connection by the code its close event carried (1006: dropped without a close frame). */
  closeCodes: Record<number, number>;
}

/** A client message waiting its turn. */
export type Queued =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'audio'; readonly data: Buffer };

/** Limits every session of a server shares. */
export interface QueueLimits {
  /** Largest binary frame accepted, in bytes; a larger one closes the session with 1009. */
  readonly maxFrameBytes: number;
  /** Stop reading the socket while this many bytes of messages wait to be processed. */
  readonly highWaterBytes: number;
  /**
   * Stop processing (and so, soon, reading) while this many bytes of replies
   * wait for a client that does not read them. Default 1 MiB.
   */
  readonly maxUnreadBytes?: number;
}

/** Replies a client may leave unread before the session waits for it. */
const DEFAULT_MAX_UNREAD = 1024 * 1024;
/** How often a session waiting on an unread client looks again. */
const UNREAD_POLL_MS = 25;

/** Thrown while processing a message: the session closes with this code and reason. */
export class Refused extends Error {
  constructor(
    readonly code: number,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * One client connection whose messages are processed in order, one at a
 * time, whatever the protocol: while messages wait, reading from the socket
 * stops (TCP backpressure); a refusal closes with its code; timers and the
 * engine are released once, however it ends.
 */
export abstract class QueuedSession {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  /** A message is being processed. */
  protected running = false;
  protected closed = false;
  /** Set while processing a message: once its replies are sent, the session closes with 1000 and takes nothing more. */
  protected ended = false;
  private waitTimer: NodeJS.Timeout | undefined;
  private wakeWaiter: (() => void) | undefined;
  private readonly done: Promise<void>;
  private markDone!: () => void;
  /** When the connection opened and when its last message came (`performance.now()`): the server's session-length and idle limits read them. */
  readonly openedAt = performance.now();
  lastMessageAt = this.openedAt;

  constructor(
    protected readonly socket: WebSocket,
    private readonly limits: QueueLimits,
    protected readonly counters: SessionCounters,
    protected readonly metrics: ServerMetrics,
  ) {
    metrics.sessionOpened();
    this.done = new Promise((resolve) => {
      this.markDone = resolve;
    });
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    socket.on('close', (code: number) => {
      counters.closeCodes[code] = (counters.closeCodes[code] ?? 0) + 1;
      void this.dispose();
    });
    socket.on('error', () => void this.dispose());
  }

  /** The replies to one message, in order (JSON text). */
  protected abstract process(item: Queued): Promise<readonly string[]>;

  /** Releases what the protocol holds (its engine sessions); called once, at the end. */
  protected abstract release(): Promise<void>;

  /** A message arrived (before it is queued). */
  protected onArrival(): void {}

  /** The queue is empty and nothing is being processed. */
  protected onIdle(): void {}

  /** Resolves when the connection is gone and the engine released. */
  get finished(): Promise<void> {
    return this.done;
  }

  /** Closes the connection (server shutdown) and releases everything. */
  shutdown(code: number, reason: string): Promise<void> {
    this.refuse(code, reason);
    return this.done;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed || this.ended) return;
    this.lastMessageAt = performance.now();
    this.onArrival();
    if (isBinary && data.length > this.limits.maxFrameBytes) {
      this.refuse(
        CloseCode.messageTooBig,
        `audio frame of ${data.length} bytes is over the limit of ${this.limits.maxFrameBytes} bytes; send smaller frames`,
      );
      return;
    }
    this.queue.push(isBinary ? { kind: 'audio', data } : { kind: 'text', text: data.toString('utf8') });
    this.queuedBytes += data.length;
    this.counters.peakQueuedBytes = Math.max(this.counters.peakQueuedBytes, this.queuedBytes);
    if (this.queuedBytes >= this.limits.highWaterBytes && !this.socket.isPaused) this.socket.pause();
    if (!this.running) void this.run();
  }

  /** Processes the queue iteratively, sending each message's replies in order. */
  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const item = this.queue.shift()!;
        const size = item.kind === 'audio' ? item.data.length : item.text.length;
        const replies = await this.process(item);
        this.queuedBytes -= size;
        if (this.socket.isPaused && this.queuedBytes < this.limits.highWaterBytes / 2) this.socket.resume();
        if (this.closed) break;
        for (const reply of replies) {
          if (this.socket.readyState !== this.socket.OPEN) break;
          this.socket.send(reply);
        }
        // A client that does not read its replies gets no more work done: the
        // queue then fills, reading stops, and TCP holds the rest.
        const maxUnread = this.limits.maxUnreadBytes ?? DEFAULT_MAX_UNREAD;
        while (!this.closed && this.socket.bufferedAmount > maxUnread) await this.sleep(UNREAD_POLL_MS);
        if (this.ended) {
          this.close(CloseCode.normal, '');
          break;
        }
      }
    } catch (error) {
      if (error instanceof Refused) this.refuse(error.code, error.message);
      else this.refuse(CloseCode.internalError, `recognition failed: ${(error as Error).message}`);
    } finally {
      this.running = false;
      if (!this.closed) this.onIdle();
    }
  }

  /** Counts the time the engine takes to answer. */
  protected async timed(reply: Promise<string>): Promise<string> {
    const started = performance.now();
    try {
      return await reply;
    } finally {
      this.metrics.engineTime((performance.now() - started) / 1000);
    }
  }

  /** Waits `ms` (real-time pacing); cut short when the session is disposed. */
  protected sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeWaiter = resolve;
      this.waitTimer = setTimeout(() => {
        this.waitTimer = undefined;
        this.wakeWaiter = undefined;
        resolve();
      }, ms);
    });
  }

  /** Closes with `code`, counted as a refusal unless it is 1000. */
  protected refuse(code: number, reason: string): void {
    if (this.closed) return;
    if (code !== CloseCode.normal) {
      this.counters.closedWithError[code] = (this.counters.closedWithError[code] ?? 0) + 1;
      this.metrics.closedWithError(code);
    }
    this.close(code, reason);
  }

  private close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, closeReason(reason));
    }
    void this.dispose();
  }

  /** Stops timers, drops the queue and releases the engine; safe to call more than once. */
  protected async dispose(): Promise<void> {
    if (this.closed) return this.done;
    this.closed = true;
    this.metrics.sessionClosed();
    if (this.waitTimer !== undefined) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.wakeWaiter?.();
    this.wakeWaiter = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
    if (this.socket.isPaused) this.socket.resume();
    try {
      await this.release();
    } finally {
      this.markDone();
    }
  }
}

/**
 * Joins 16-bit samples split across frames: a frame of odd length leaves its
 * last byte for the next one.
 */
export class SampleJoiner {
  private oddByte: number | undefined;

  /** The whole samples of `bytes`, after the byte kept from the frame before. */
  push(bytes: Buffer): Buffer {
    let pcm = bytes;
    if (this.oddByte !== undefined) {
      pcm = Buffer.concat([Buffer.of(this.oddByte), pcm]);
      this.oddByte = undefined;
    }
    if (pcm.length % 2 === 1) {
      this.oddByte = pcm[pcm.length - 1];
      pcm = pcm.subarray(0, pcm.length - 1);
    }
    return pcm;
  }
}
