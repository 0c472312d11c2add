import { createHash, type Hash } from 'node:crypto';
import type { WebSocket } from 'ws';
import { describeWavFormat, looksLikeRiff, parseWavHeader } from '../../audio/wav-header.js';
import { CloseCode, closeReason } from '../client-message.js';
import type { Engine, EngineFailure, EngineSession } from '../engines/engine.js';
import { RealtimePacer } from '../realtime-pacer.js';
import type { ServerMetrics } from '../server-metrics.js';
import type { SessionCounters } from '../server-session.js';
import { parseDeepgramClientMessage } from './client-message.js';
import { EMPTY_FINAL, parseEngineReply } from './engine-reply.js';
import {
  type ConnectionIdentity,
  type DeepgramServerMessage,
  metadataMessage,
  schemaErrorMessage,
} from './messages.js';
import type { DeepgramConfig } from './query.js';
import { type ReplyCause, ResultTimeline } from './result-timeline.js';

/** How the server runs its `/v1/listen` sessions. */
export interface DeepgramSessionOptions {
  readonly engine: Engine;
  /** Consume audio no faster than this many times real time; undefined for as fast as the engine goes. */
  readonly realtime: number | undefined;
  /** Largest binary frame accepted, in bytes; a larger one closes the session with 1009. */
  readonly maxFrameBytes: number;
  /** Stop reading the socket while this many bytes of messages wait to be processed. */
  readonly highWaterBytes: number;
  /** Close with 1011 (NET-0001) after this long without audio or a text message. */
  readonly idleTimeoutMs: number;
}

/** Deepgram's close reason when nothing came within the timeout (captured from api.deepgram.com). */
export const NET_0001_REASON =
  'Deepgram did not receive audio data or a text message within the timeout window. See https://dpgr.am/net0001';

/** The policy-violation close (1008) Deepgram uses for audio it cannot decode. */
const DATA_0000 = 1008;

/** Largest WAV header read through before giving up. */
const MAX_HEADER_BYTES = 64 * 1024;

type Queued =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'audio'; readonly data: Buffer };

class Refused extends Error {
  constructor(
    readonly code: number,
    reason: string,
  ) {
    super(reason);
  }
}

/** Refuses audio that cannot be decoded: close 1008 with `DATA-0000` in the reason. */
function undecodable(why: string): Refused {
  return new Refused(DATA_0000, `DATA-0000: cannot decode the audio: ${why}`);
}

/**
 * One `/v1/listen` connection speaking Deepgram's live protocol over an
 * engine. Messages are processed in order, one at a time; while they wait,
 * reading from the socket stops (TCP backpressure). Replies are not one per
 * message: audio brings zero or more `Results` (and `SpeechStarted`,
 * `UtteranceEnd`), `Finalize` a final with `from_finalize`, `CloseStream` the
 * last final and `Metadata` before the close (1000).
 */
export class DeepgramSession {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private running = false;
  private closed = false;
  private ending = false;
  private engineSession: EngineSession | undefined;
  /** An engine session being released after a flush. */
  private engineClosing: Promise<void> | undefined;
  private readonly timeline: ResultTimeline;
  private readonly received: Hash = createHash('sha256');
  private pacer: RealtimePacer | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private wakeWaiter: (() => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Without `encoding`, the audio must start with a WAV header: 'reading' until it is through. */
  private header: 'reading' | 'done';
  private headerBytes: Buffer = Buffer.alloc(0);
  /** A byte left over from a frame of odd length: half a sample, joined to the next frame. */
  private oddByte: number | undefined;
  private readonly done: Promise<void>;
  private markDone!: () => void;

  constructor(
    private readonly socket: WebSocket,
    config: DeepgramConfig,
    private readonly identity: ConnectionIdentity,
    private readonly options: DeepgramSessionOptions,
    private readonly counters: SessionCounters,
    private readonly metrics: ServerMetrics,
  ) {
    metrics.sessionOpened();
    this.done = new Promise((resolve) => {
      this.markDone = resolve;
    });
    this.header = config.encoding === 'linear16' ? 'done' : 'reading';
    this.timeline = new ResultTimeline(identity, config, config.sampleRate);
    socket.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    socket.on('close', (code: number) => {
      counters.closeCodes[code] = (counters.closeCodes[code] ?? 0) + 1;
      void this.dispose();
    });
    socket.on('error', () => void this.dispose());
    this.armIdleTimer();
  }

  /** Resolves when the connection is gone and the engine session released. */
  get finished(): Promise<void> {
    return this.done;
  }

  /** Closes the connection (server shutdown) and releases everything. */
  shutdown(code: number, reason: string): Promise<void> {
    this.refuse(code, reason);
    return this.done;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed || this.ending) return;
    this.armIdleTimer();
    if (isBinary && data.length > this.options.maxFrameBytes) {
      this.refuse(
        CloseCode.messageTooBig,
        `audio frame of ${data.length} bytes is over the limit of ${this.options.maxFrameBytes} bytes; send smaller frames`,
      );
      return;
    }
    this.queue.push(isBinary ? { kind: 'audio', data } : { kind: 'text', text: data.toString('utf8') });
    this.queuedBytes += data.length;
    this.counters.peakQueuedBytes = Math.max(this.counters.peakQueuedBytes, this.queuedBytes);
    if (this.queuedBytes >= this.options.highWaterBytes && !this.socket.isPaused) this.socket.pause();
    if (!this.running) void this.run();
  }

  /** The idle clock runs only while nothing waits: a session busy with a backlog is not idle. */
  private armIdleTimer(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.closed || this.ending || this.running) return;
    this.idleTimer = setTimeout(() => this.onIdle(), this.options.idleTimeoutMs);
  }

  /** As Deepgram: the summary `Metadata`, then close 1011 with NET-0001's reason. */
  private onIdle(): void {
    this.idleTimer = undefined;
    if (this.closed || this.ending || this.running) return;
    this.send([this.metadata()]);
    this.refuse(CloseCode.internalError, NET_0001_REASON);
  }

  private async run(): Promise<void> {
    this.running = true;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    try {
      while (!this.closed && this.queue.length > 0) {
        const item = this.queue.shift()!;
        const size = item.kind === 'audio' ? item.data.length : item.text.length;
        const messages = item.kind === 'audio' ? await this.onAudio(item.data) : await this.onText(item.text);
        this.queuedBytes -= size;
        if (this.socket.isPaused && this.queuedBytes < this.options.highWaterBytes / 2) this.socket.resume();
        if (this.closed) break;
        this.send(messages);
        if (this.ending) {
          this.close(CloseCode.normal, '');
          break;
        }
      }
    } catch (error) {
      if (error instanceof Refused) this.refuse(error.code, error.message);
      else this.refuse(CloseCode.internalError, `recognition failed: ${(error as Error).message}`);
    } finally {
      this.running = false;
      this.armIdleTimer();
    }
  }

  private send(messages: readonly DeepgramServerMessage[]): void {
    for (const message of messages) {
      if (this.socket.readyState !== this.socket.OPEN) return;
      this.socket.send(JSON.stringify(message));
    }
  }

  private async onText(text: string): Promise<DeepgramServerMessage[]> {
    const message = parseDeepgramClientMessage(text);
    switch (message.type) {
      case 'unreadable':
        return [schemaErrorMessage(message.detail, text)];
      case 'KeepAlive':
      case 'Configure':
      case 'Sync':
        return [];
      case 'Finalize':
        return this.flush('finalize');
      case 'CloseStream':
        return this.closeStream();
    }
  }

  /** The last final (if any audio came since the last one), `Metadata`, then the close 1000. */
  private async closeStream(): Promise<DeepgramServerMessage[]> {
    const messages = this.engineSession !== undefined ? await this.flush('close') : [];
    this.ending = true;
    return [...messages, this.metadata()];
  }

  /**
   * Ends the engine session, which flushes its utterance, and gives that
   * final. The engines cannot flush mid-stream, so the next audio opens a new
   * engine session, whose times the timeline shifts to where this one ended.
   */
  private async flush(cause: ReplyCause): Promise<DeepgramServerMessage[]> {
    const engine = this.engineSession;
    if (engine === undefined) return this.timeline.onReply(EMPTY_FINAL, cause);
    const reply = await this.timed(engine.finish());
    this.engineSession = undefined;
    this.engineClosing = engine.close();
    await this.engineClosing;
    this.engineClosing = undefined;
    if (this.closed) return [];
    return this.timeline.onReply(parseEngineReply(reply), cause);
  }

  private metadata(): DeepgramServerMessage {
    return metadataMessage(this.identity, {
      sha256: this.received.copy().digest('hex'),
      duration: this.timeline.audioSeconds,
    });
  }

  private async onAudio(frame: Buffer): Promise<DeepgramServerMessage[]> {
    // An empty binary frame is Deepgram's old way to end a stream: it still closes it.
    if (frame.length === 0) return this.closeStream();
    this.received.update(frame);
    let pcm = this.header === 'done' ? frame : this.readWavHeader(frame);
    if (pcm === undefined || pcm.length === 0) return [];
    if (this.oddByte !== undefined) {
      pcm = Buffer.concat([Buffer.of(this.oddByte), pcm]);
      this.oddByte = undefined;
    }
    if (pcm.length % 2 === 1) {
      this.oddByte = pcm[pcm.length - 1];
      pcm = pcm.subarray(0, pcm.length - 1);
    }
    if (pcm.length === 0) return [];
    const engine = this.engine();
    if (this.pacer !== undefined) await this.sleep(this.pacer.delayFor(pcm.length));
    if (this.closed) return [];
    this.counters.audioBytes += pcm.length;
    this.metrics.audioConsumed(pcm.length / 2 / this.timeline.sampleRate);
    this.timeline.advance(pcm.length / 2);
    const reply = await this.timed(engine.accept(pcm));
    if (this.closed) return [];
    return this.timeline.onReply(parseEngineReply(reply), 'audio');
  }

  private engine(): EngineSession {
    if (this.engineSession === undefined) {
      const sampleRate = this.timeline.sampleRate;
      this.engineSession = this.options.engine.createSession({ sampleRate, words: true }, (error) =>
        this.onEngineFailure(error),
      );
      this.timeline.engineStarted();
      if (this.options.realtime !== undefined && this.pacer === undefined) {
        this.pacer = new RealtimePacer(this.options.realtime, sampleRate * 2);
      }
    }
    return this.engineSession;
  }

  private onEngineFailure(error: EngineFailure): void {
    this.refuse(CloseCode.internalError, `recognition engine failed: ${error.message}`);
  }

  /**
   * Without `encoding`, Deepgram expects containerized audio and detects its
   * format; this server reads WAV (16-bit mono PCM at a rate the engine
   * takes), across frames if need be, and refuses anything else as
   * undecodable (1008, DATA-0000).
   */
  private readWavHeader(frame: Buffer): Buffer | undefined {
    const bytes = this.headerBytes.length > 0 ? Buffer.concat([this.headerBytes, frame]) : frame;
    if (!looksLikeRiff(bytes)) {
      throw undecodable('not a WAV file (raw PCM needs encoding=linear16&sample_rate=RATE)');
    }
    const parsed = parseWavHeader(bytes);
    if (parsed.status === 'need-more') {
      if (bytes.length > MAX_HEADER_BYTES)
        throw undecodable(`WAV header longer than ${MAX_HEADER_BYTES} bytes`);
      this.headerBytes = bytes;
      return undefined;
    }
    if (parsed.status === 'invalid') throw undecodable(`bad WAV header: ${parsed.reason}`);
    const { format } = parsed;
    if (format.formatCode !== 1 || format.bitsPerSample !== 16 || format.channels !== 1) {
      throw undecodable(`WAV audio is ${describeWavFormat(format)}; this server takes 16-bit mono PCM`);
    }
    const problem = this.options.engine.checkSampleRate(format.sampleRate);
    if (problem !== undefined) throw undecodable(`WAV audio at ${format.sampleRate} Hz: ${problem}`);
    this.timeline.setSampleRate(format.sampleRate);
    this.header = 'done';
    this.headerBytes = Buffer.alloc(0);
    return bytes.subarray(parsed.dataOffset);
  }

  /** Counts the time the engine takes to answer. */
  private async timed(reply: Promise<string>): Promise<string> {
    const started = performance.now();
    try {
      return await reply;
    } finally {
      this.metrics.engineTime((performance.now() - started) / 1000);
    }
  }

  private sleep(ms: number): Promise<void> {
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

  private refuse(code: number, reason: string): void {
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
  private async dispose(): Promise<void> {
    if (this.closed) return this.done;
    this.closed = true;
    this.metrics.sessionClosed();
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.waitTimer !== undefined) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.wakeWaiter?.();
    this.wakeWaiter = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
    if (this.socket.isPaused) this.socket.resume();
    try {
      await Promise.all([this.engineSession?.close(), this.engineClosing]);
    } finally {
      this.markDone();
    }
  }
}
