import type { Observable, Subscriber, Subscription } from 'rxjs';
import { type AudioChunk, framesToMs } from '../audio/audio-format.js';
import { isTranscriptionError, TranscriptionError } from '../errors/transcription-error.js';
import { Demand } from '../flow/demand.js';
import { FlowStats } from '../flow/flow-stats.js';
import { controlled, type OverflowPolicy } from '../operators/controlled.js';
import { frames } from '../operators/frames.js';
import { toPcm16 } from '../operators/to-pcm16.js';
import type { ProtocolResult, TranscriptionProtocol } from '../protocols/protocol.js';
import type { TranscriptEvent, TranscriptWord } from '../transcript-event.js';
import type { SocketFactory, WireMessage } from '../transport/socket-driver.js';
import { type Connection, connect, type TransportEvent } from '../transport/websocket-connection.js';

/** What a session needs to run (the resolved options of `transcribe`). */
export interface SessionConfig {
  readonly url: string;
  readonly protocol: TranscriptionProtocol;
  readonly frameMs: number;
  /** Audio sent and not yet answered (or not yet left, for protocols without replies), at most. */
  readonly windowMs: number;
  /** Bound of the buffer for sources that cannot wait, and what overflows it does. */
  readonly maxBufferMs: number;
  readonly overflow: OverflowPolicy;
  /** Stop sending while the socket holds more than this many bytes; go on when it has sent them. */
  readonly highWaterBytes: number;
  readonly connectTimeoutMs: number;
  readonly finalTimeoutMs: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly protocols?: readonly string[];
  readonly socketFactory?: SocketFactory;
}

/** A message waiting to be sent. */
interface Outgoing {
  readonly data: WireMessage;
  /** Where the audio stands once the server has answered this message (ms from the start). */
  readonly audioEndMs: number;
  /** Audio in this message, in ms (0 for control messages): the credit it returns when answered. */
  readonly durationMs: number;
}

/**
 * One transcription over one WebSocket connection: sends the protocol's start
 * messages, then the audio frame by frame (the next frame leaves when the last
 * has left: concatMap-style iteration in a loop, never recursion), then
 * end-of-stream; decodes the replies into TranscriptEvents on the timeline of
 * the audio; completes after the final result that follows end-of-stream.
 */
export class TranscriptionSession {
  private connection: Connection | undefined;
  private transport: Subscription | undefined;
  private audio: Subscription | undefined;
  private readonly outbox: Outgoing[] = [];
  /** Sent messages that await their reply, oldest first. */
  private readonly awaiting: Outgoing[] = [];
  private pumping = false;
  /** Downstream demand of flow control: the window, refilled as the server answers. */
  readonly demand = new Demand();
  /** What flow control did with the audio. */
  readonly flow = new FlowStats();
  private audioMs = 0;
  private endQueued = false;
  private endSent = 0;
  private answeredMs = 0;
  private lastFinalEndMs = 0;
  private lastPartial = '';
  private finished = false;
  private finalTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly config: SessionConfig,
    private readonly source: Observable<AudioChunk>,
    private readonly subscriber: Subscriber<TranscriptEvent>,
  ) {}

  start(): void {
    const extra = this.config.protocol.connectOptions?.() ?? {};
    const protocols = this.config.protocols ?? extra.protocols;
    const headers = { ...extra.headers, ...this.config.headers };
    this.transport = connect({
      url: this.config.url,
      connectTimeoutMs: this.config.connectTimeoutMs,
      ...(protocols !== undefined ? { protocols } : {}),
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      ...(this.config.socketFactory !== undefined ? { socketFactory: this.config.socketFactory } : {}),
    }).subscribe({
      next: (event) => this.onTransport(event),
      error: (error: unknown) => this.fail(error),
      complete: () => {
        if (!this.finished) {
          this.fail(
            new TranscriptionError('the server closed the connection (1000) before the final result', {
              kind: 'server',
              retryable: true,
              closeCode: 1000,
            }),
          );
        }
      },
    });
  }

  /** Releases the socket (closing it with 1000), the audio source and timers. */
  dispose(): void {
    this.finished = true;
    if (this.finalTimer !== undefined) clearTimeout(this.finalTimer);
    this.finalTimer = undefined;
    this.audio?.unsubscribe();
    this.transport?.unsubscribe();
    this.outbox.length = 0;
    this.connection = undefined;
  }

  private onTransport(event: TransportEvent): void {
    if (event.type === 'open') {
      this.connection = event.connection;
      for (const data of this.config.protocol.start()) this.connection.send(data);
      const { protocol, frameMs, maxBufferMs, overflow } = this.config;
      let offset = 0;
      this.audio = this.source
        .pipe(
          toPcm16({ sampleRate: protocol.sampleRate }),
          frames({ durationMs: frameMs }),
          controlled({ demand: this.demand, maxBufferMs, overflow, stats: this.flow }),
        )
        .subscribe({
          next: (frame) => {
            // Positions count what is sent: audio dropped by the overflow policy leaves no gap.
            const durationMs = framesToMs(frame.samples.length, protocol.sampleRate);
            offset += frame.samples.length;
            this.audioMs = framesToMs(offset, protocol.sampleRate);
            const wire = protocol.encodeAudio({ ...frame, offset: offset - frame.samples.length });
            this.outbox.push({ data: wire, audioEndMs: this.audioMs, durationMs });
            this.pump();
          },
          error: (error: unknown) => this.fail(error),
          complete: () => {
            this.endQueued = true;
            for (const data of protocol.end())
              this.outbox.push({ data, audioEndMs: this.audioMs, durationMs: 0 });
            this.pump();
          },
        });
      this.demand.request(this.config.windowMs);
      return;
    }
    this.onMessage(event.data);
  }

  /**
   * Sends queued messages in order while the socket is under its high-water
   * mark; a "sent" callback resumes it. A loop: re-entrant calls fall through
   * to the one running, so nothing recurses however the socket calls back.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (
        this.outbox.length > 0 &&
        this.connection !== undefined &&
        this.connection.bufferedAmount < this.config.highWaterBytes
      ) {
        const message = this.outbox.shift()!;
        this.awaiting.push(message);
        // Counted when handed to the socket: a reply may beat the "sent" callback.
        if (this.endQueued && this.outbox.length === 0 && message.durationMs === 0) this.onEndSent();
        this.connection.send(message.data, () => this.pump());
      }
    } finally {
      this.pumping = false;
    }
  }

  private onEndSent(): void {
    this.endSent += 1;
    if (this.finalTimer !== undefined || this.finished) return;
    this.finalTimer = setTimeout(() => {
      this.fail(
        new TranscriptionError(`no final result within ${this.config.finalTimeoutMs} ms of end-of-stream`, {
          kind: 'timeout',
          retryable: true,
        }),
      );
    }, this.config.finalTimeoutMs);
  }

  private onMessage(data: WireMessage): void {
    let decoded: ReturnType<TranscriptionProtocol['decode']>;
    try {
      decoded = this.config.protocol.decode(data);
    } catch (error) {
      this.fail(error);
      return;
    }
    for (let i = 0; i < decoded.answers; i++) {
      const answered = this.awaiting.shift();
      if (answered === undefined) {
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
      this.answeredMs = answered.audioEndMs;
      // The server has consumed this audio: its room in the window is free again.
      if (answered.durationMs > 0 && !this.finished) this.demand.request(answered.durationMs);
    }
    for (const result of decoded.results) this.emit(result);
    if (this.endSent > 0 && this.outbox.length === 0 && this.awaiting.length === 0 && !this.finished) {
      const subscriber = this.subscriber;
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
    const words: TranscriptWord[] = result.words.map((w) => ({ ...w }));
    const startMs = words[0]?.startMs ?? this.lastFinalEndMs;
    const endMs = words.at(-1)?.endMs ?? Math.max(startMs, this.answeredMs);
    this.lastFinalEndMs = endMs;
    this.subscriber.next({ type: 'final', text: result.text, startMs, endMs, words });
  }

  private fail(error: unknown): void {
    if (this.finished) return;
    const subscriber = this.subscriber;
    this.dispose();
    subscriber.error(
      isTranscriptionError(error)
        ? error
        : new TranscriptionError(`transcription failed: ${(error as Error)?.message ?? String(error)}`, {
            kind: 'server',
            retryable: false,
            cause: error,
          }),
    );
  }
}
