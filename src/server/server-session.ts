import type { WebSocket } from 'ws';
import { describeWavFormat, looksLikeRiff, parseWavHeader } from '../audio/wav-header.js';
import { CloseCode, closeReason, parseClientMessage } from './client-message.js';
import type { Engine, EngineFailure, EngineSession } from './engines/engine.js';
import { RealtimePacer } from './realtime-pacer.js';
import type { ServerMetrics } from './server-metrics.js';

/** How a session is run; set by the server for all its sessions. */
export interface ServerSessionOptions {
  readonly engine: Engine;
  /** Consume audio no faster than this many times real time; undefined for as fast as the engine goes. */
  readonly realtime: number | undefined;
  /** Largest binary frame accepted, in bytes; a larger one closes the session with 1009. */
  readonly maxFrameBytes: number;
  /** Stop reading the socket while this many bytes of messages wait to be processed. */
  readonly highWaterBytes: number;
}

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

type Queued =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'audio'; readonly data: Buffer };

/** A WAV header at the start of the audio is skipped: 'undecided' until 4 bytes tell. */
type HeaderState = 'undecided' | 'reading' | 'done';

/** Largest WAV header the server will read through before giving up. */
const MAX_HEADER_BYTES = 64 * 1024;

const EMPTY_PARTIAL = '{"partial": ""}';

class Refused extends Error {
  constructor(
    readonly code: number,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * One client connection speaking the Vosk protocol. Messages are processed in
 * order, one at a time, and each audio frame and EOF gets exactly one reply.
 * While messages wait, reading from the socket stops (TCP backpressure).
 */
export class ServerSession {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private running = false;
  private closed = false;
  private ended = false;
  private sampleRate: number | undefined;
  private words = true;
  private engineSession: EngineSession | undefined;
  private pacer: RealtimePacer | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private wakeWaiter: (() => void) | undefined;
  private header: HeaderState = 'undecided';
  private headerBytes: Buffer = Buffer.alloc(0);
  /** A byte left over from a frame of odd length: half a sample, joined to the next frame. */
  private oddByte: number | undefined;
  private readonly done: Promise<void>;
  private markDone!: () => void;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: ServerSessionOptions,
    private readonly counters: SessionCounters,
    private readonly metrics: ServerMetrics,
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
    if (this.closed || this.ended) return;
    if (isBinary && data.length > this.options.maxFrameBytes) {
      this.refuse(
        CloseCode.messageTooBig,
        `audio frame of ${data.length} bytes is over the limit of ${this.options.maxFrameBytes} bytes; send smaller frames`,
      );
      return;
    }
    const item: Queued = isBinary ? { kind: 'audio', data } : { kind: 'text', text: data.toString('utf8') };
    this.queue.push(item);
    this.queuedBytes += data.length;
    this.counters.peakQueuedBytes = Math.max(this.counters.peakQueuedBytes, this.queuedBytes);
    if (this.queuedBytes >= this.options.highWaterBytes && !this.socket.isPaused) this.socket.pause();
    if (!this.running) void this.run();
  }

  /** Processes the queue iteratively; one reply per message, in order. */
  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const item = this.queue.shift()!;
        const size = item.kind === 'audio' ? item.data.length : item.text.length;
        const reply = item.kind === 'audio' ? await this.onAudio(item.data) : await this.onText(item.text);
        this.queuedBytes -= size;
        if (this.socket.isPaused && this.queuedBytes < this.options.highWaterBytes / 2) this.socket.resume();
        if (this.closed) break;
        if (reply !== undefined) this.socket.send(reply);
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
    }
  }

  private async onText(text: string): Promise<string | undefined> {
    const message = parseClientMessage(text);
    if (message.type === 'refusal') throw new Refused(message.code, message.reason);
    if (message.type === 'eof') {
      this.ended = true;
      return this.timed(this.engine().finish());
    }
    if (this.engineSession !== undefined || this.header !== 'undecided') {
      throw new Refused(
        CloseCode.unsupportedData,
        'config after audio is not supported; send it once, before audio',
      );
    }
    if (message.sampleRate !== undefined) this.setRate(message.sampleRate, 'config');
    if (message.words !== undefined) this.words = message.words;
    return undefined;
  }

  private setRate(sampleRate: number, from: string): void {
    const problem = this.options.engine.checkSampleRate(sampleRate);
    if (problem !== undefined) {
      throw new Refused(
        CloseCode.invalidPayload,
        `sample rate ${sampleRate} (from ${from}) not supported: ${problem}`,
      );
    }
    this.sampleRate = sampleRate;
  }

  private engine(): EngineSession {
    if (this.engineSession === undefined) {
      const sampleRate = this.sampleRate ?? this.options.engine.defaultSampleRate;
      this.engineSession = this.options.engine.createSession({ sampleRate, words: this.words }, (error) =>
        this.onEngineFailure(error),
      );
      if (this.options.realtime !== undefined)
        this.pacer = new RealtimePacer(this.options.realtime, sampleRate * 2);
    }
    return this.engineSession;
  }

  private onEngineFailure(error: EngineFailure): void {
    this.refuse(CloseCode.internalError, `recognition engine failed: ${error.message}`);
  }

  private async onAudio(frame: Buffer): Promise<string> {
    let pcm = this.skipWavHeader(frame);
    if (pcm === undefined) return EMPTY_PARTIAL; // all of it was header
    if (this.oddByte !== undefined) {
      pcm = Buffer.concat([Buffer.of(this.oddByte), pcm]);
      this.oddByte = undefined;
    }
    if (pcm.length % 2 === 1) {
      this.oddByte = pcm[pcm.length - 1];
      pcm = pcm.subarray(0, pcm.length - 1);
    }
    const engine = this.engine();
    if (this.pacer !== undefined) await this.sleep(this.pacer.delayFor(pcm.length));
    if (this.closed) return EMPTY_PARTIAL;
    this.counters.audioBytes += pcm.length;
    this.metrics.audioConsumed(pcm.length / 2 / (this.sampleRate ?? this.options.engine.defaultSampleRate));
    return this.timed(engine.accept(pcm));
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

  /**
   * Clients written for Vosk may pipe a WAV file as it is: a RIFF header at
   * the very start of the audio is read (across frames if need be), checked
   * against the session's format, and not fed to the recogniser.
   */
  private skipWavHeader(frame: Buffer): Buffer | undefined {
    if (this.header === 'done') return frame;
    const bytes = this.headerBytes.length > 0 ? Buffer.concat([this.headerBytes, frame]) : frame;
    if (this.header === 'undecided') {
      if (!looksLikeRiff(bytes)) {
        this.header = 'done';
        this.headerBytes = Buffer.alloc(0);
        return bytes;
      }
      if (bytes.length < 4) {
        this.headerBytes = bytes;
        return undefined;
      }
      this.header = 'reading';
    }
    const parsed = parseWavHeader(bytes);
    if (parsed.status === 'need-more') {
      if (bytes.length > MAX_HEADER_BYTES) {
        throw new Refused(CloseCode.invalidPayload, `WAV header longer than ${MAX_HEADER_BYTES} bytes`);
      }
      this.headerBytes = bytes;
      return undefined;
    }
    if (parsed.status === 'invalid') {
      throw new Refused(CloseCode.invalidPayload, `audio starts with a bad WAV header: ${parsed.reason}`);
    }
    const { format } = parsed;
    if (format.formatCode !== 1 || format.bitsPerSample !== 16 || format.channels !== 1) {
      throw new Refused(
        CloseCode.invalidPayload,
        `WAV audio is ${describeWavFormat(format)}; this server takes 16-bit mono PCM`,
      );
    }
    if (this.sampleRate === undefined) this.setRate(format.sampleRate, 'WAV header');
    else if (format.sampleRate !== this.sampleRate) {
      throw new Refused(
        CloseCode.invalidPayload,
        `WAV header says ${format.sampleRate} Hz but config said ${this.sampleRate} Hz`,
      );
    }
    this.header = 'done';
    this.headerBytes = Buffer.alloc(0);
    const rest = bytes.subarray(parsed.dataOffset);
    return rest.length > 0 ? rest : undefined;
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
    if (this.waitTimer !== undefined) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.wakeWaiter?.();
    this.wakeWaiter = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
    if (this.socket.isPaused) this.socket.resume();
    try {
      await this.engineSession?.close();
    } finally {
      this.markDone();
    }
  }
}
