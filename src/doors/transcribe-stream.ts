import { type TranscribeOptions, type TranscribeStats, transcribe } from '../operators/transcribe.js';
import type { TranscriptEvent } from '../transcript-event.js';
import { abortReason, onAbort } from './abort.js';
import { type AudioInput, type AudioInputOptions, audioInput } from './audio-input.js';
import { DemandGate, gated } from './demand-gate.js';

/** Options of {@link transcribeStream}. */
export interface TranscribeStreamOptions extends TranscribeOptions, AudioInputOptions {
  /** Aborting ends the session (the socket closes with 1000); the loop then throws the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Events waiting for the loop, at most, before the session stops reading a
   * source that can wait (it goes on as the loop catches up). Default 16.
   * Events of the audio already in flight still arrive meanwhile.
   */
  readonly highWaterMark?: number;
}

/** The events of one session, for `for await`; `stats()` reports on it, as the operator's does. */
export interface TranscriptStream extends AsyncIterableIterator<TranscriptEvent> {
  /** Produced, sent, dropped and buffered audio and reconnects of the session (undefined before it starts). */
  stats(): TranscribeStats | undefined;
}

/**
 * The transcript of `source` (what `transcribeFile` takes: a path in Node, a
 * Blob, a ReadableStream, an iterable of bytes, bytes) as an async iterator.
 * The session starts at the first `next()`, and the loop's pace is the
 * backpressure: while its body is busy and `highWaterMark` events wait, the
 * session reads no more of a source that can wait (a file, a stream) than
 * the window it had asked for. `signal` ends it: the loop throws the reason,
 * and events still queued are not given. `break`
 * (or `return()`) ends the session and closes the socket with 1000; a failure
 * throws the session's `TranscriptionError` after the events before it.
 *
 * @example
 * for await (const event of transcribeStream(createReadStream('talk.wav'), { url })) {
 *   if (event.type === 'final') await save(event.text);
 * }
 */
export function transcribeStream(
  source: AudioInput | string,
  options: TranscribeStreamOptions,
): TranscriptStream {
  const { format, signal, highWaterMark = 16, ...rest } = options;
  if (!(highWaterMark >= 1) || !Number.isFinite(highWaterMark)) {
    throw new RangeError(`transcribeStream: highWaterMark must be 1 or more, got ${highWaterMark}`);
  }
  const operator = transcribe(rest);
  const audio$ = audioInput(source, format);

  async function* events(): AsyncGenerator<TranscriptEvent, void, undefined> {
    if (signal?.aborted) throw abortReason(signal);
    const queue: TranscriptEvent[] = [];
    const gate = new DemandGate();
    let done = false;
    let failed = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const woken = (): void => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    const subscription = gated(audio$, gate)
      .pipe(operator)
      .subscribe({
        next: (event) => {
          queue.push(event);
          if (queue.length >= highWaterMark) gate.set(false);
          woken();
        },
        error: (error: unknown) => {
          failed = true;
          failure = error;
          woken();
        },
        complete: () => {
          done = true;
          woken();
        },
      });
    const stopListening = onAbort(signal, (reason) => {
      subscription.unsubscribe();
      // Aborted is aborted: the events still queued are not given.
      queue.length = 0;
      if (!done && !failed) {
        failed = true;
        failure = reason;
      }
      woken();
    });
    try {
      for (;;) {
        const event = queue.shift();
        if (event !== undefined) {
          if (queue.length < highWaterMark) gate.set(true);
          yield event;
          continue;
        }
        if (failed) throw failure;
        if (done) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      // `break`, a throw in the loop, the end: the session goes, with its socket, timers and listeners.
      stopListening();
      subscription.unsubscribe();
    }
  }

  return Object.assign(events(), { stats: () => operator.stats() });
}
