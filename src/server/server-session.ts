import type { WebSocket } from 'ws';
import { describeWavFormat } from '../audio/wav-header.js';
import { CloseCode, parseClientMessage } from './client-message.js';
import type { Engine, EngineFailure, EngineSession } from './engines/engine.js';
import { type Queued, QueuedSession, Refused, SampleJoiner, type SessionCounters } from './queued-session.js';
import { RealtimePacer } from './realtime-pacer.js';
import type { ServerMetrics } from './server-metrics.js';
import { WavHeaderReader } from './wav-header-reader.js';

export type { SessionCounters };

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

const EMPTY_PARTIAL = '{"partial": ""}';

/**
 * One client connection speaking the Vosk protocol. Messages are processed in
 * order, one at a time, and each audio frame and EOF gets exactly one reply.
 * While messages wait, reading from the socket stops (TCP backpressure).
 */
export class ServerSession extends QueuedSession {
  private sampleRate: number | undefined;
  private words = true;
  private engineSession: EngineSession | undefined;
  private pacer: RealtimePacer | undefined;
  /** A WAV header at the start of the audio is skipped; undefined once the audio is past it. */
  private header: WavHeaderReader | undefined = new WavHeaderReader();
  private readonly samples = new SampleJoiner();

  constructor(
    socket: WebSocket,
    private readonly options: ServerSessionOptions,
    counters: SessionCounters,
    metrics: ServerMetrics,
  ) {
    super(socket, options, counters, metrics);
  }

  protected async process(item: Queued): Promise<readonly string[]> {
    const reply = item.kind === 'audio' ? await this.onAudio(item.data) : await this.onText(item.text);
    return reply === undefined ? [] : [reply];
  }

  protected async release(): Promise<void> {
    await this.engineSession?.close();
  }

  private async onText(text: string): Promise<string | undefined> {
    const message = parseClientMessage(text);
    if (message.type === 'refusal') throw new Refused(message.code, message.reason);
    if (message.type === 'eof') {
      this.ended = true;
      return this.timed(this.engine().finish());
    }
    if (this.engineSession !== undefined || this.header === undefined || this.header.started) {
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
    const audio = this.skipWavHeader(frame);
    if (audio === undefined) return EMPTY_PARTIAL; // all of it was header
    const pcm = this.samples.push(audio);
    const engine = this.engine();
    if (this.pacer !== undefined) await this.sleep(this.pacer.delayFor(pcm.length));
    if (this.closed) return EMPTY_PARTIAL;
    this.counters.audioBytes += pcm.length;
    this.metrics.audioConsumed(pcm.length / 2 / (this.sampleRate ?? this.options.engine.defaultSampleRate));
    return this.timed(engine.accept(pcm));
  }

  /**
   * Clients written for Vosk may pipe a WAV file as it is: a RIFF header at
   * the very start of the audio is read (across frames if need be), checked
   * against the session's format, and not fed to the recogniser.
   */
  private skipWavHeader(frame: Buffer): Buffer | undefined {
    const reader = this.header;
    if (reader === undefined) return frame;
    const read = reader.push(frame);
    if (read.status === 'need-more') return undefined;
    this.header = undefined;
    if (read.status === 'not-wav') return read.bytes;
    if (read.status === 'invalid') {
      throw new Refused(CloseCode.invalidPayload, `audio starts with a bad WAV header: ${read.reason}`);
    }
    const { format } = read;
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
    return read.rest.length > 0 ? read.rest : undefined;
  }
}
