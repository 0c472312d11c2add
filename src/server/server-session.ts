import type { WebSocket } from 'ws';
import { describeWavFormat } from '../audio/wav-header.js';
import { type ClientMessage, CloseCode, parseClientMessage } from './client-message.js';
import type { Engine, EngineFailure, EngineSession, EngineSessionOptions } from './engines/engine.js';
import { PcmRateConverter } from './pcm-rate-converter.js';
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
/** Client rates the server resamples from, when the engine does not take them as they are. */
const MIN_RESAMPLE_RATE = 6000;
const MAX_RESAMPLE_RATE = 192000;

type Config = Extract<ClientMessage, { type: 'config' }>;

/**
 * One client connection speaking the Vosk protocol. Messages are processed in
 * order, one at a time; each audio frame, reset and EOF gets one reply (EOF
 * two in the rare case that an utterance ends in the resampler's last
 * samples), a config none. While messages wait, reading from the socket stops (TCP backpressure).
 */
export class ServerSession extends QueuedSession {
  /** The client's rate (from config or a WAV header). */
  private sampleRate: number | undefined;
  /** Set when the engine does not take the client's rate: audio is resampled to its default rate. */
  private converter: PcmRateConverter | undefined;
  private words = true;
  private maxAlternatives = 0;
  private phraseList: readonly string[] = [];
  /**
   * Audio, a reset or EOF came: Vosk's recogniser exists from then on, and a
   * later config no longer changes it.
   */
  private recogniserMade = false;
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
    return item.kind === 'audio' ? [await this.onAudio(item.data)] : await this.onText(item.text);
  }

  protected async release(): Promise<void> {
    await this.engineSession?.close();
  }

  private async onText(text: string): Promise<readonly string[]> {
    const message = parseClientMessage(text);
    if (message.type === 'refusal') throw new Refused(message.code, message.reason);
    if (message.type === 'config') {
      // As in Vosk's asr_server.py: settings are read before the recogniser is
      // made; a config after that is taken and changes nothing.
      if (!this.recogniserMade) this.configure(message);
      return [];
    }
    this.recogniserMade = true;
    if (message.type === 'reset') {
      const engine = this.engine();
      if (engine.reset === undefined) {
        throw new Refused(CloseCode.unsupportedData, `the ${this.options.engine.name} engine cannot reset`);
      }
      return [await this.timed(engine.reset())];
    }
    this.ended = true;
    const engine = this.engine();
    const tail = this.converter?.flush();
    // The resampler's last samples: an utterance that ends in them has its final now, and
    // the EOF must still get exactly one reply, so that final and the EOF's become one.
    const tailReply =
      tail !== undefined && tail.length > 0 ? await this.timed(engine.accept(tail)) : undefined;
    const last = await this.timed(engine.finish());
    return [
      tailReply === undefined || tailReply.startsWith('{"partial"') ? last : joinFinals(tailReply, last),
    ];
  }

  private configure(config: Config): void {
    if (config.sampleRate !== undefined) this.setRate(config.sampleRate, 'config');
    if (config.words !== undefined) this.words = config.words;
    if (config.maxAlternatives !== undefined) this.maxAlternatives = config.maxAlternatives;
    if (config.phraseList !== undefined) this.phraseList = config.phraseList;
  }

  /** Takes the client's rate: as it is when the engine does, otherwise resampled to the engine's own. */
  private setRate(sampleRate: number, from: string): void {
    const engine = this.options.engine;
    const problem = engine.checkSampleRate(sampleRate);
    this.converter = undefined;
    if (problem !== undefined) {
      if (!Number.isInteger(sampleRate) || sampleRate < MIN_RESAMPLE_RATE || sampleRate > MAX_RESAMPLE_RATE) {
        throw new Refused(
          CloseCode.invalidPayload,
          `sample rate ${sampleRate} (from ${from}) not supported: send a whole rate from ${MIN_RESAMPLE_RATE} to ${MAX_RESAMPLE_RATE} Hz`,
        );
      }
      this.converter = new PcmRateConverter(sampleRate, engine.defaultSampleRate);
    }
    this.sampleRate = sampleRate;
  }

  private engine(): EngineSession {
    if (this.engineSession === undefined) {
      const clientRate = this.sampleRate ?? this.options.engine.defaultSampleRate;
      const options: EngineSessionOptions = {
        sampleRate: this.converter?.outputRate ?? clientRate,
        words: this.words,
        ...(this.maxAlternatives > 0 ? { alternatives: this.maxAlternatives } : {}),
        ...(this.phraseList.length > 0 ? { phrases: this.phraseList } : {}),
      };
      this.engineSession = this.options.engine.createSession(options, (error) => this.onEngineFailure(error));
      if (this.options.realtime !== undefined)
        this.pacer = new RealtimePacer(this.options.realtime, clientRate * 2);
    }
    return this.engineSession;
  }

  private onEngineFailure(error: EngineFailure): void {
    this.refuse(CloseCode.internalError, `recognition engine failed: ${error.message}`);
  }

  private async onAudio(frame: Buffer): Promise<string> {
    this.recogniserMade = true;
    const audio = this.skipWavHeader(frame);
    if (audio === undefined) return EMPTY_PARTIAL; // all of it was header
    const pcm = this.samples.push(audio);
    const engine = this.engine();
    if (this.pacer !== undefined) await this.sleep(this.pacer.delayFor(pcm.length));
    if (this.closed) return EMPTY_PARTIAL;
    this.counters.audioBytes += pcm.length;
    this.metrics.audioConsumed(pcm.length / 2 / (this.sampleRate ?? this.options.engine.defaultSampleRate));
    return this.timed(engine.accept(this.converter?.push(pcm) ?? pcm));
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

/** A Vosk final as the engines write it: plain (`text`, `result`) or N-best (`alternatives`). */
interface FinalReply {
  readonly text?: string;
  readonly result?: readonly unknown[];
  readonly alternatives?: ReadonlyArray<{
    readonly text: string;
    readonly confidence?: number;
    readonly result?: readonly unknown[];
  }>;
}

/**
 * Two finals of one stream, in order, as one: the words and texts joined. An
 * empty one leaves the other as it is; two N-best lists keep the best of each,
 * joined (the joint list of alternatives is not known).
 */
export function joinFinals(first: string, second: string): string {
  const a = JSON.parse(first) as FinalReply;
  const b = JSON.parse(second) as FinalReply;
  const text = (f: FinalReply): string => f.alternatives?.[0]?.text ?? f.text ?? '';
  if (text(b) === '') return first;
  if (text(a) === '') return second;
  const joined = `${text(a)} ${text(b)}`;
  if (a.alternatives !== undefined || b.alternatives !== undefined) {
    const best = (f: FinalReply) => f.alternatives?.[0] ?? { text: text(f), result: f.result ?? [] };
    const [x, y] = [best(a), best(b)];
    const confidence =
      x.confidence !== undefined && y.confidence !== undefined ? x.confidence + y.confidence : undefined;
    return JSON.stringify({
      alternatives: [
        {
          ...(confidence !== undefined ? { confidence } : {}),
          result: [...(x.result ?? []), ...(y.result ?? [])],
          text: joined,
        },
      ],
    });
  }
  return JSON.stringify({
    ...(a.result !== undefined || b.result !== undefined
      ? { result: [...(a.result ?? []), ...(b.result ?? [])] }
      : {}),
    text: joined,
  });
}
