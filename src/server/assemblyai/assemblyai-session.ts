import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { CloseCode } from '../client-message.js';
import { EMPTY_FINAL, parseEngineReply } from '../deepgram/engine-reply.js';
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
import { AudioRules } from './audio-rules.js';
import { parseAssemblyAIClientMessage } from './client-message.js';
import {
  AssemblyAICloseCode,
  type AssemblyAIServerMessage,
  type BeginMessage,
  errorMessage,
  terminationMessage,
} from './messages.js';
import type { AssemblyAIConfig } from './query.js';
import { type ReplyCause, TurnTimeline } from './turn-timeline.js';

/** How the server runs its `/v3/ws` sessions. */
export interface AssemblyAISessionOptions {
  readonly engine: Engine;
  /** Consume audio no faster than this many times real time; undefined for as fast as the engine goes. */
  readonly realtime: number | undefined;
  readonly maxFrameBytes: number;
  readonly highWaterBytes: number;
  /** How far audio may run ahead of real time before 3007 (see `AudioRules`). */
  readonly burstMs: number;
}

/**
 * One `/v3/ws` connection speaking AssemblyAI's Universal-Streaming v3 over an
 * engine: `Begin` at once; binary audio (each message 50 to 1,000 ms, no
 * faster than real time, else `Error` and close 3007) brings `Turn` messages;
 * `ForceEndpoint` ends the turn in progress; `Terminate` ends the last turn
 * and sends `Termination`, then close 1000. A session lives at most
 * `maxSessionMs` (3 h, or a token's `max_session_duration_seconds`), then
 * `Error` and close 3008. With `inactivity_timeout`, a session that gets no
 * audio nor message for that long is terminated as by `Terminate`.
 */
export class AssemblyAISession extends QueuedSession {
  private engineSession: EngineSession | undefined;
  private engineClosing: Promise<void> | undefined;
  private readonly timeline: TurnTimeline;
  private readonly rules: AudioRules;
  private readonly samples = new SampleJoiner();
  private readonly startedAt = performance.now();
  private pacer: RealtimePacer | undefined;
  private inactivityTimer: NodeJS.Timeout | undefined;
  private readonly expiryTimer: NodeJS.Timeout;

  constructor(
    socket: WebSocket,
    private readonly config: AssemblyAIConfig,
    private readonly options: AssemblyAISessionOptions,
    maxSessionMs: number,
    counters: SessionCounters,
    metrics: ServerMetrics,
  ) {
    super(socket, options, counters, metrics);
    this.timeline = new TurnTimeline(config.sampleRate, config.formatTurns);
    this.rules = new AudioRules(config.sampleRate, options.burstMs);
    const begin: BeginMessage = {
      type: 'Begin',
      id: randomUUID(),
      expires_at: Math.floor((Date.now() + maxSessionMs) / 1000),
    };
    socket.send(JSON.stringify(begin));
    this.expiryTimer = setTimeout(
      () =>
        this.failNow(
          AssemblyAICloseCode.sessionExpired,
          'Session Expired: Maximum session duration exceeded',
        ),
      maxSessionMs,
    );
    this.armInactivity();
  }

  protected async process(item: Queued): Promise<readonly string[]> {
    this.stopInactivity();
    let messages: AssemblyAIServerMessage[];
    try {
      messages = item.kind === 'audio' ? await this.onAudio(item.data) : await this.onText(item.text);
    } catch (error) {
      if (error instanceof Refused) throw error;
      // AssemblyAI's unknown server error, with the Error message first.
      return this.fail(AssemblyAICloseCode.serverError, `Session Cancelled: ${(error as Error).message}`);
    }
    return messages.map((message) => JSON.stringify(message));
  }

  protected override onArrival(): void {
    this.armInactivity();
  }

  protected override onIdle(): void {
    this.armInactivity();
  }

  protected async release(): Promise<void> {
    this.stopInactivity();
    clearTimeout(this.expiryTimer);
    await Promise.all([this.engineSession?.close(), this.engineClosing]);
  }

  /** Sends AssemblyAI's `Error` and closes with its code (outside message processing). */
  private failNow(code: number, text: string): void {
    if (this.closed) return;
    if (this.socket.readyState === this.socket.OPEN)
      this.socket.send(JSON.stringify(errorMessage(code, text)));
    this.refuse(code, text);
  }

  /** The same while processing a message: the queue stops and the session closes with `code`. */
  private fail(code: number, text: string): never {
    if (this.socket.readyState === this.socket.OPEN)
      this.socket.send(JSON.stringify(errorMessage(code, text)));
    throw new Refused(code, text);
  }

  private stopInactivity(): void {
    if (this.inactivityTimer !== undefined) clearTimeout(this.inactivityTimer);
    this.inactivityTimer = undefined;
  }

  /** The inactivity clock runs only while nothing waits. */
  private armInactivity(): void {
    this.stopInactivity();
    const timeoutMs = this.config.inactivityTimeoutMs;
    if (timeoutMs === undefined || this.closed || this.ended || this.running) return;
    this.inactivityTimer = setTimeout(() => void this.terminateInactive(), timeoutMs);
  }

  /** As `Terminate`: the last turn, `Termination`, close 1000. Nothing more is taken meanwhile. */
  private async terminateInactive(): Promise<void> {
    this.inactivityTimer = undefined;
    if (this.closed || this.ended || this.running) return;
    this.ended = true;
    try {
      const messages = await this.terminate();
      for (const message of messages) {
        if (this.socket.readyState !== this.socket.OPEN) break;
        this.socket.send(JSON.stringify(message));
      }
      this.refuse(CloseCode.normal, '');
    } catch (error) {
      this.refuse(AssemblyAICloseCode.serverError, `Session Cancelled: ${(error as Error).message}`);
    }
  }

  private async onText(text: string): Promise<AssemblyAIServerMessage[]> {
    const message = parseAssemblyAIClientMessage(text);
    switch (message.type) {
      case 'invalid':
        return this.fail(AssemblyAICloseCode.invalidMessage, message.error);
      case 'KeepAlive':
        return [];
      case 'UpdateConfiguration':
        if (message.formatTurns !== undefined) this.timeline.formatTurns = message.formatTurns;
        return [];
      case 'ForceEndpoint':
        return this.flush();
      case 'Terminate': {
        const messages = await this.terminate();
        this.ended = true;
        return messages;
      }
    }
  }

  private async terminate(): Promise<AssemblyAIServerMessage[]> {
    const turns = this.engineSession !== undefined ? await this.flush() : [];
    const sessionSeconds = (performance.now() - this.startedAt) / 1000;
    return [...turns, terminationMessage(this.timeline.audioSeconds, sessionSeconds)];
  }

  /**
   * Ends the engine session, which flushes its utterance, and gives that
   * turn. The engines cannot flush mid-stream, so the next audio opens a new
   * engine session, whose times the timeline shifts to where this one ended.
   */
  private async flush(): Promise<AssemblyAIServerMessage[]> {
    const engine = this.engineSession;
    if (engine === undefined) return this.timeline.onReply(EMPTY_FINAL, 'flush');
    const reply = await this.timed(engine.finish());
    this.engineSession = undefined;
    this.engineClosing = engine.close();
    await this.engineClosing;
    this.engineClosing = undefined;
    if (this.closed) return [];
    return this.timeline.onReply(parseEngineReply(reply), 'flush' satisfies ReplyCause);
  }

  private async onAudio(frame: Buffer): Promise<AssemblyAIServerMessage[]> {
    const violation = this.rules.check(frame.length);
    if (violation !== undefined) this.fail(AssemblyAICloseCode.inputDuration, violation);
    const pcm = this.samples.push(frame);
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
    this.failNow(
      AssemblyAICloseCode.serverError,
      `Session Cancelled: recognition engine failed: ${error.message}`,
    );
  }
}
