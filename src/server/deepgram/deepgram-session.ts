import { createHash, type Hash } from 'node:crypto';
import type { WebSocket } from 'ws';
import { describeWavFormat } from '../../audio/wav-header.js';
import { CloseCode } from '../client-message.js';
import type { Engine, EngineFailure, EngineSession } from '../engines/engine.js';
import {
  type Queued,
  QueuedSession,
  Refused,
  SampleJoiner,
  type SessionCounters,
} from '../queued-session.js';
import { RealtimePacer } from '../realtime-pacer.js';
import type { ServerMetrics } from '../server-metrics.js';
import { WavHeaderReader } from '../wav-header-reader.js';
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
export class DeepgramSession extends QueuedSession {
  private engineSession: EngineSession | undefined;
  /** An engine session being released after a flush. */
  private engineClosing: Promise<void> | undefined;
  private readonly timeline: ResultTimeline;
  private readonly received: Hash = createHash('sha256');
  private pacer: RealtimePacer | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Without `encoding`, the audio must start with a WAV header: undefined once it is through. */
  private header: WavHeaderReader | undefined;
  private readonly samples = new SampleJoiner();

  constructor(
    socket: WebSocket,
    config: DeepgramConfig,
    private readonly identity: ConnectionIdentity,
    private readonly options: DeepgramSessionOptions,
    counters: SessionCounters,
    metrics: ServerMetrics,
  ) {
    super(socket, options, counters, metrics);
    this.header = config.encoding === 'linear16' ? undefined : new WavHeaderReader();
    this.timeline = new ResultTimeline(identity, config, config.sampleRate);
    this.armIdleTimer();
  }

  protected async process(item: Queued): Promise<readonly string[]> {
    this.stopIdleTimer();
    const messages = item.kind === 'audio' ? await this.onAudio(item.data) : await this.onText(item.text);
    return messages.map((message) => JSON.stringify(message));
  }

  protected override onArrival(): void {
    this.armIdleTimer();
  }

  protected override onIdle(): void {
    this.armIdleTimer();
  }

  protected async release(): Promise<void> {
    this.stopIdleTimer();
    await Promise.all([this.engineSession?.close(), this.engineClosing]);
  }

  private stopIdleTimer(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** The idle clock runs only while nothing waits: a session busy with a backlog is not idle. */
  private armIdleTimer(): void {
    this.stopIdleTimer();
    if (this.closed || this.ended || this.running) return;
    this.idleTimer = setTimeout(() => this.closeIdle(), this.options.idleTimeoutMs);
  }

  /** As Deepgram: the summary `Metadata`, then close 1011 with NET-0001's reason. */
  private closeIdle(): void {
    this.idleTimer = undefined;
    if (this.closed || this.ended || this.running) return;
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(this.metadata()));
    this.refuse(CloseCode.internalError, NET_0001_REASON);
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
    this.ended = true;
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
    const audio = this.header === undefined ? frame : this.readWavHeader(frame);
    if (audio === undefined || audio.length === 0) return [];
    const pcm = this.samples.push(audio);
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
    const read = this.header!.push(frame);
    if (read.status === 'need-more') return undefined;
    if (read.status === 'not-wav') {
      throw undecodable('not a WAV file (raw PCM needs encoding=linear16&sample_rate=RATE)');
    }
    if (read.status === 'invalid') throw undecodable(`bad WAV header: ${read.reason}`);
    const { format } = read;
    if (format.formatCode !== 1 || format.bitsPerSample !== 16 || format.channels !== 1) {
      throw undecodable(`WAV audio is ${describeWavFormat(format)}; this server takes 16-bit mono PCM`);
    }
    const problem = this.options.engine.checkSampleRate(format.sampleRate);
    if (problem !== undefined) throw undecodable(`WAV audio at ${format.sampleRate} Hz: ${problem}`);
    this.timeline.setSampleRate(format.sampleRate);
    this.header = undefined;
    return read.rest;
  }
}
