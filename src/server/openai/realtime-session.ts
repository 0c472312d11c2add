import type { WebSocket } from 'ws';
import { CloseCode } from '../client-message.js';
import type { Engine, EngineFailure } from '../engines/engine.js';
import { type Queued, QueuedSession, SampleJoiner, type SessionCounters } from '../queued-session.js';
import { RealtimePacer } from '../realtime-pacer.js';
import type { ServerMetrics } from '../server-metrics.js';
import { parseClientEvent } from './client-event.js';
import { InputAudioBuffer } from './input-audio-buffer.js';
import {
  errorMessage,
  type RealtimeServerMessage,
  realtimeId,
  sessionExpiredMessage,
  sessionMessage,
} from './messages.js';
import {
  applySessionUpdate,
  defaultSession,
  OPENAI_PCM_RATE,
  type TranscriptionSessionShape,
} from './session-config.js';

/** How the server runs its `/v1/realtime` transcription sessions. */
export interface RealtimeSessionOptions {
  readonly engine: Engine;
  /** Consume audio no faster than this many times real time; undefined for as fast as the engine goes. */
  readonly realtime: number | undefined;
  /** Stop reading the socket while this many bytes of messages wait to be processed. */
  readonly highWaterBytes: number;
  /** Largest binary frame (not used by this protocol, whose audio is JSON; kept for the queue). */
  readonly maxFrameBytes: number;
  /** A session ends with `session_expired` after this long (OpenAI: 60 minutes). */
  readonly sessionLimitMs: number;
}

/**
 * One `/v1/realtime?intent=transcription` connection speaking OpenAI's
 * Realtime transcription protocol over an engine: `session.created` at once,
 * `session.update` answered by `session.updated`, base64 PCM16 at 24 kHz in
 * `input_audio_buffer.append`, items committed by server VAD or by the
 * client, their transcripts as deltas and a completion. Bad events get
 * OpenAI's `error` event and the session goes on; at its time limit it sends
 * `session_expired` and closes. Messages are processed in order, one at a
 * time; while they wait, reading from the socket stops (TCP backpressure).
 */
export class RealtimeSession extends QueuedSession {
  private config: TranscriptionSessionShape;
  private readonly buffer: InputAudioBuffer;
  private readonly samples = new SampleJoiner();
  private pacer: RealtimePacer | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    socket: WebSocket,
    private readonly options: RealtimeSessionOptions,
    counters: SessionCounters,
    metrics: ServerMetrics,
  ) {
    super(socket, options, counters, metrics);
    const expiresAt = Math.floor((Date.now() + options.sessionLimitMs) / 1000);
    this.config = defaultSession(realtimeId('sess'), expiresAt);
    this.buffer = new InputAudioBuffer(
      options.engine,
      (error) => this.onEngineFailure(error),
      (reply) => this.timed(reply),
    );
    if (options.realtime !== undefined) this.pacer = new RealtimePacer(options.realtime, OPENAI_PCM_RATE * 2);
    this.expiryTimer = setTimeout(() => this.expire(), options.sessionLimitMs);
    socket.send(JSON.stringify(sessionMessage('session.created', this.config)));
  }

  protected async process(item: Queued): Promise<readonly string[]> {
    const messages = item.kind === 'audio' ? [binaryRefused()] : await this.onText(item.text);
    return messages.map((message) => JSON.stringify(message));
  }

  protected async release(): Promise<void> {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    await this.buffer.release();
  }

  private async onText(text: string): Promise<RealtimeServerMessage[]> {
    const event = parseClientEvent(text);
    switch (event.type) {
      case 'unreadable':
        return [
          errorMessage(
            { type: 'invalid_request_error', code: event.code, message: event.message, param: event.param },
            event.eventId,
          ),
        ];
      case 'session.update': {
        const updated = applySessionUpdate(this.config, event.session);
        if ('param' in updated) {
          return [
            errorMessage(
              {
                type: 'invalid_request_error',
                code: 'invalid_value',
                message: updated.message,
                param: updated.param,
              },
              event.eventId,
            ),
          ];
        }
        this.config = updated;
        return [sessionMessage('session.updated', updated)];
      }
      case 'input_audio_buffer.append':
        return this.onAudio(event.audio);
      case 'input_audio_buffer.commit':
        return this.buffer.commit(event.eventId);
      case 'input_audio_buffer.clear':
        return this.buffer.clear();
    }
  }

  private async onAudio(bytes: Buffer): Promise<RealtimeServerMessage[]> {
    const pcm = this.samples.push(bytes);
    if (pcm.length === 0) return [];
    if (this.pacer !== undefined) await this.sleep(this.pacer.delayFor(pcm.length));
    if (this.closed) return [];
    this.counters.audioBytes += pcm.length;
    this.metrics.audioConsumed(pcm.length / 2 / OPENAI_PCM_RATE);
    const messages = await this.buffer.append(pcm, this.config.audio.input.turn_detection);
    return this.closed ? [] : messages;
  }

  /** As OpenAI at its limit: the `session_expired` error, then the close. */
  private expire(): void {
    this.expiryTimer = undefined;
    if (this.closed) return;
    if (this.socket.readyState === this.socket.OPEN) {
      this.socket.send(JSON.stringify(sessionExpiredMessage(this.options.sessionLimitMs)));
    }
    this.refuse(CloseCode.normal, 'session_expired');
  }

  private onEngineFailure(error: EngineFailure): void {
    if (this.socket.readyState === this.socket.OPEN) {
      this.socket.send(
        JSON.stringify(
          errorMessage({
            type: 'server_error',
            code: null,
            message: `The server had an error while processing your request (recognition engine failed: ${error.message}).`,
            param: null,
          }),
        ),
      );
    }
    this.refuse(CloseCode.internalError, `recognition engine failed: ${error.message}`);
  }
}

function binaryRefused(): RealtimeServerMessage {
  return errorMessage({
    type: 'invalid_request_error',
    code: 'invalid_request_error',
    message:
      'Binary frames are not supported: send audio as base64 in input_audio_buffer.append JSON events.',
    param: null,
  });
}
