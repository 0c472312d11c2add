import type { TranscribeOptions, TranscribeStats } from '../operators/transcribe.js';
import { transcribe } from '../operators/transcribe.js';
import { formatSrt, formatVtt, type SubtitleOptions } from '../sinks/subtitles.js';
import type { TranscriptEvent } from '../transcript-event.js';
import { abortReason, onAbort } from './abort.js';
import { type AudioInput, type AudioInputOptions, audioInput } from './audio-input.js';

/** Options of {@link transcribeFile}: those of `transcribe`, the input's format, and a signal. */
export interface TranscribeFileOptions extends TranscribeOptions, AudioInputOptions {
  /** Aborting cancels the session (the socket closes with 1000) and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** A final result: its type narrowed, with its words. */
export type FinalEvent = TranscriptEvent & { readonly type: 'final' };

/** What {@link transcribeFile} resolves to. */
export interface Transcript {
  /** The finals' text, joined by spaces. */
  readonly text: string;
  /** Every final, in order, with its words and times (ms from the start of the audio). */
  readonly finals: readonly FinalEvent[];
  /** The session's flow and reconnect counts at its end: sent, dropped, replayed audio. */
  readonly stats: TranscribeStats;
  /** The finals as a SubRip (.srt) file. */
  toSrt(options?: SubtitleOptions): string;
  /** The finals as a WebVTT (.vtt) file. */
  toVtt(options?: SubtitleOptions): string;
}

/**
 * Transcribes a whole input and resolves to its transcript: a path (Node), a
 * `Blob` or `File`, a `ReadableStream`, an iterable of bytes, or the bytes
 * (WAV, or raw PCM with `format`). One session of `transcribe`, with its flow
 * control: the input is read only as the server takes it. Rejects with the
 * session's `TranscriptionError`, or with the signal's reason on abort.
 *
 * @example
 * const { text, toSrt } = await transcribeFile('talk.wav', { url: 'ws://localhost:2700' });
 * await writeFile('talk.srt', toSrt());
 */
export function transcribeFile(
  input: AudioInput | string,
  options: TranscribeFileOptions,
): Promise<Transcript> {
  return new Promise<Transcript>((resolve, reject) => {
    const { format, signal, ...rest } = options;
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const operator = transcribe(rest);
    const finals: FinalEvent[] = [];
    const audio$ = audioInput(input, format);
    let stopListening = (): void => {};
    const subscription = audio$.pipe(operator).subscribe({
      next: (event) => {
        if (isFinal(event)) finals.push(event);
      },
      error: (error: unknown) => {
        stopListening();
        reject(error);
      },
      complete: () => {
        stopListening();
        resolve(transcriptOf(finals, operator.stats()!));
      },
    });
    // A session that ended synchronously (a bad input) needs no listener.
    if (!subscription.closed) {
      stopListening = onAbort(signal, (reason) => {
        subscription.unsubscribe();
        reject(reason);
      });
    }
  });
}

/** True for a final result (narrows its type). */
export function isFinal(event: TranscriptEvent): event is FinalEvent {
  return event.type === 'final';
}

function transcriptOf(finals: readonly FinalEvent[], stats: TranscribeStats): Transcript {
  return {
    text: finals
      .map((event) => event.text)
      .filter((text) => text !== '')
      .join(' '),
    finals,
    stats,
    toSrt: (options) => formatSrt(finals, options),
    toVtt: (options) => formatVtt(finals, options),
  };
}
