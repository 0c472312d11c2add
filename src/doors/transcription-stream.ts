import { Observable, type Subscriber, type Subscription } from 'rxjs';
import { type AudioChunk, assertAudioChunk, frameCount, framesToMs } from '../audio/audio-format.js';
import { badAudio, isTranscriptionError } from '../errors/transcription-error.js';
import { claimUpstreamDemand, type DemandClaim, noticeTrailingBytes } from '../flow/upstream-link.js';
import {
  type TranscribeOperator,
  type TranscribeOptions,
  type TranscribeStats,
  transcribe,
} from '../operators/transcribe.js';
import { type ChunkDecoder, chunkDecoder } from '../sources/byte-source.js';
import type { ByteLike } from '../sources/from-async-iterable.js';
import type { TranscriptEvent } from '../transcript-event.js';
import { onAbort } from './abort.js';
import type { AudioInputOptions } from './audio-input.js';
import { DemandGate, gated } from './demand-gate.js';

/** What the writable side of a {@link TranscriptionStream} takes: bytes (WAV, or raw PCM with `format`) or `AudioChunk`s. */
export type TranscriptionStreamInput = ByteLike | AudioChunk;

/** Options of {@link TranscriptionStream}. */
export interface TranscriptionStreamOptions extends TranscribeOptions, AudioInputOptions {
  /** Aborting ends the session (the socket closes with 1000) and errors both sides with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Events queued on the readable side, at most, before the session stops
   * taking audio from writers that wait (they wait longer). Default 16.
   */
  readonly readableHighWaterMark?: number;
}

const NAME = 'the TranscriptionStream';

/**
 * A WHATWG transform stream (a `{ readable, writable }` pair, which
 * `pipeThrough` takes) onto one session of `transcribe`: audio in on
 * `writable`, `TranscriptEvent`s out on `readable`, for
 * `file.stream().pipeThrough(new TranscriptionStream(opts))` and
 * `Readable.toWeb(stream).pipeThrough(...)`. The session starts (and
 * connects) when it is made.
 *
 * The writable side holds one chunk (`highWaterMark` 1) and takes it when
 * the session asks for audio: `desiredSize` and `ready` follow the session's
 * flow window, so a writer that awaits `ready` (as `pipeTo` does) holds at most
 * the window and its read-ahead, whatever the server's speed. Chunks written
 * without waiting, with more queued behind them, go at once into the session's
 * push buffer, bounded by `maxBufferMs` with the `overflow` policy, each drop
 * counted in `stats()`. A slow reader of `readable` slows the writers that wait.
 * Closing `writable` ends the audio; `readable` closes after the final.
 * Cancelling `readable`, aborting `writable` or the `signal` closes the socket
 * with 1000; a failure errors both sides with the `TranscriptionError`.
 *
 * @example
 * const response = await fetch('/talk.wav');
 * for await (const event of response.body!.pipeThrough(new TranscriptionStream({ url })))
 *   console.log(event.type, event.text);
 */
export class TranscriptionStream {
  /** The session's events, partials and finals, in order. */
  readonly readable: ReadableStream<TranscriptEvent>;
  /** Audio: bytes or AudioChunks. */
  readonly writable: WritableStream<TranscriptionStreamInput>;
  private readonly operator: TranscribeOperator;

  constructor(options: TranscriptionStreamOptions) {
    const { format = 'wav', signal, readableHighWaterMark = 16, ...rest } = options;
    if (!(readableHighWaterMark >= 1) || !Number.isFinite(readableHighWaterMark)) {
      throw new RangeError(
        `TranscriptionStream: readableHighWaterMark must be 1 or more, got ${readableHighWaterMark}`,
      );
    }
    const operator = transcribe(rest);
    this.operator = operator;
    const gate = new DemandGate();
    let readableSide!: ReadableStreamDefaultController<TranscriptEvent>;
    let writableSide!: WritableStreamDefaultController;
    let session: Subscription | undefined;
    let stopListening = (): void => {};
    /** Once the session has completed, failed or been stopped: nothing more to stop. */
    let ended = false;
    const audio = new AudioWriter(format);

    const stop = (reason: unknown, sides: { readable: boolean; writable: boolean }): void => {
      if (ended) return;
      ended = true;
      stopListening();
      // Waiting writes fail with the reason first, not with the end the unsubscribe tells.
      audio.stop(reason);
      session?.unsubscribe();
      if (sides.readable) readableSide.error(reason);
      if (sides.writable) writableSide.error(reason);
    };

    this.readable = new ReadableStream<TranscriptEvent>(
      {
        start: (controller) => {
          readableSide = controller;
        },
        // The reader caught up: the session may read again.
        pull: () => gate.set(true),
        cancel: (reason) => stop(reason, { readable: false, writable: true }),
      },
      { highWaterMark: readableHighWaterMark },
    );
    this.writable = new WritableStream<TranscriptionStreamInput>(
      {
        start: (controller) => {
          writableSide = controller;
        },
        write: (chunk) => audio.write(chunk),
        close: () => audio.close(),
        abort: (reason) => stop(reason, { readable: true, writable: false }),
      },
      audio.strategy,
    );

    session = gated(audio.source, gate)
      .pipe(operator)
      .subscribe({
        next: (event) => {
          readableSide.enqueue(event);
          if ((readableSide.desiredSize ?? 0) <= 0) gate.set(false);
        },
        error: (error: unknown) => stop(error, { readable: true, writable: true }),
        complete: () => {
          if (ended) return;
          ended = true;
          stopListening();
          readableSide.close();
        },
      });
    if (!ended) {
      stopListening = onAbort(signal, (reason) => stop(reason, { readable: true, writable: true }));
    }
  }

  /** Produced, sent, dropped, buffered and replayed audio and reconnects of the session. */
  stats(): TranscribeStats | undefined {
    return this.operator.stats();
  }
}

/**
 * The writable side's sink and the session's source in one: a write waits for
 * the session's demand, unless more writes are queued behind it (a writer that
 * does not wait), which push into the session's bounded buffer instead.
 */
class AudioWriter {
  private decoder: ChunkDecoder | undefined;
  private subscriber: Subscriber<AudioChunk> | undefined;
  private claim: DemandClaim | undefined;
  private stopped: { readonly reason: unknown } | undefined;
  /** Chunks written (counted as the stream queues them) and chunks taken. */
  private written = 0;
  private taken = 0;

  /** One chunk at a time: `ready` waits for the session to take the one written. */
  readonly strategy: QueuingStrategy<TranscriptionStreamInput> = {
    highWaterMark: 1,
    size: () => {
      this.written += 1;
      return 1;
    },
  };

  /** Subscribed once, by the session (through the gate). */
  readonly source = new Observable<AudioChunk>((subscriber) => {
    this.subscriber = subscriber;
    this.claim = claimUpstreamDemand(subscriber);
    return () => {
      this.stop(new TypeError(`${NAME} has ended`));
    };
  });

  constructor(private readonly format: NonNullable<AudioInputOptions['format']>) {}

  async write(input: TranscriptionStreamInput): Promise<void> {
    // More written behind this one: the writer does not wait, so neither does this.
    const behind = this.written - this.taken - 1 > 0;
    try {
      const chunk = this.decode(input);
      if (chunk !== undefined) await this.hand(chunk, !behind);
    } catch (error) {
      this.fail(error);
      throw error;
    } finally {
      this.taken += 1;
    }
  }

  async close(): Promise<void> {
    try {
      const last = this.decoder?.finish();
      if (last !== undefined) await this.hand(last, true);
    } catch (error) {
      this.fail(error);
      throw error;
    }
    if (this.decoder !== undefined) noticeTrailingBytes(this.claim, NAME, this.decoder);
    this.claim?.release();
    this.subscriber?.complete();
  }

  /** The session is gone: waiting writes fail with `reason`. */
  stop(reason: unknown): void {
    if (this.stopped !== undefined) return;
    this.stopped = { reason };
    this.claim?.release();
    this.claim?.demand.release();
  }

  private decode(input: TranscriptionStreamInput): AudioChunk | undefined {
    if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
      this.decoder ??= chunkDecoder(this.format, NAME);
      const bytes =
        input instanceof ArrayBuffer
          ? new Uint8Array(input)
          : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
      return this.decoder.push(bytes);
    }
    assertAudioChunk(input, NAME);
    return input;
  }

  /**
   * Hands `chunk` to the session: pushed, or against its demand, waiting for
   * it and cut to it, so that a large write too is taken a window at a time.
   */
  private async hand(chunk: AudioChunk, pull: boolean): Promise<void> {
    const claim = this.claim;
    this.throwIfStopped();
    if (!pull || claim === undefined) {
      this.subscriber?.next(chunk);
      return;
    }
    const { format } = chunk;
    const frames = frameCount(chunk);
    for (let from = 0; from < frames; ) {
      while (claim.demand.outstanding <= 0) {
        await claim.demand.whenDemanded();
        this.throwIfStopped();
      }
      const wanted = Math.max(1, Math.ceil((claim.demand.outstanding * format.sampleRate) / 1000));
      const to = Math.min(frames, from + wanted);
      const piece =
        from === 0 && to === frames
          ? chunk
          : { format, samples: chunk.samples.subarray(from * format.channels, to * format.channels) };
      claim.demand.handOut(framesToMs(to - from, format.sampleRate), this.deliver, piece);
      from = to;
    }
  }

  private readonly deliver = (chunk: AudioChunk): void => this.subscriber?.next(chunk);

  private throwIfStopped(): void {
    if (this.stopped !== undefined) throw this.stopped.reason;
  }

  private fail(error: unknown): void {
    if (this.stopped !== undefined) return;
    this.subscriber?.error(
      isTranscriptionError(error) ? error : badAudio(`${NAME}: ${(error as Error).message}`, error),
    );
  }
}
