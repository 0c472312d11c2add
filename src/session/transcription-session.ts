import type { Observable, Subscriber, Subscription } from 'rxjs';
import { type AudioChunk, framesToMs } from '../audio/audio-format.js';
import { isTranscriptionError, TranscriptionError } from '../errors/transcription-error.js';
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
  /** Audio positions of sent messages that await their reply, oldest first. */
  private readonly awaiting: number[] = [];
  private inFlight = false;
  private pumping = false;
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
      const { protocol, frameMs } = this.config;
      this.audio = this.source
        .pipe(toPcm16({ sampleRate: protocol.sampleRate }), frames({ durationMs: frameMs }))
        .subscribe({
          next: (frame) => {
            this.audioMs = framesToMs(frame.offset + frame.samples.length, protocol.sampleRate);
            this.outbox.push({ data: protocol.encodeAudio(frame), audioEndMs: this.audioMs });
            this.pump();
          },
          error: (error: unknown) => this.fail(error),
          complete: () => {
            this.endQueued = true;
            for (const data of protocol.end()) this.outbox.push({ data, audioEndMs: this.audioMs });
            this.pump();
          },
        });
      return;
    }
    this.onMessage(event.data);
  }

  /** Sends queued messages one at a time; re-entrant calls fall through to the running loop. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.inFlight && this.outbox.length > 0 && this.connection !== undefined) {
        const message = this.outbox.shift()!;
        this.inFlight = true;
        this.awaiting.push(message.audioEndMs);
        const isEnd = this.endQueued && this.outbox.length === 0;
        // Counted when handed to the socket: a reply may beat the "sent" callback.
        if (isEnd) this.onEndSent();
        this.connection.send(message.data, () => {
          this.inFlight = false;
          this.pump();
        });
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
      const position = this.awaiting.shift();
      if (position === undefined) {
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
      this.answeredMs = position;
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
