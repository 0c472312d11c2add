import { Injectable, InjectionToken, inject } from '@angular/core';
import {
  catchError,
  distinctUntilChanged,
  map,
  merge,
  type Observable,
  of,
  Subject,
  scan,
  shareReplay,
  startWith,
  switchMap,
} from 'rxjs';
import {
  type FrameLevel,
  fromMicrophone,
  isMicrophoneError,
  isTranscriptionError,
  type MicrophoneSource,
  type SessionMetrics,
  type SessionStatus,
  type TranscriptEvent,
  transcribe,
} from 'rxjs-transcribe';

/** The speech-to-text server: `?server=ws://host:port` in the page's URL, else a local one. */
export const TRANSCRIBE_URL = new InjectionToken<string>('TRANSCRIBE_URL', {
  providedIn: 'root',
  factory: () =>
    new URLSearchParams(globalThis.location?.search ?? '').get('server') ?? 'ws://localhost:2700',
});

/** What has been said: the settled lines, and the line being heard now. */
export interface Transcript {
  readonly finals: readonly string[];
  readonly partial: string;
}

/** Where the capture and its connection stand. */
export type ConnectionState =
  | 'idle'
  | 'starting'
  | 'connecting'
  | 'open'
  | 'reconnecting'
  | 'closing'
  | 'closed'
  | 'error';

export interface Status {
  readonly state: ConnectionState;
  /** The error's message, when `state` is 'error'. */
  readonly error?: string;
}

/** Live numbers: the microphone's level, and the session's audio counts. */
export interface Metrics {
  /** The latest frame's RMS level, 0 to 1. */
  readonly level: number;
  readonly audioSentMs: number;
  readonly droppedMs: number;
  readonly reconnects: number;
}

interface View {
  readonly transcript: Transcript;
  readonly status: Status;
  readonly metrics: Metrics;
}

type Update =
  | { readonly type: 'event'; readonly event: TranscriptEvent }
  | { readonly type: 'status'; readonly status: SessionStatus }
  | { readonly type: 'metrics'; readonly metrics: SessionMetrics }
  | { readonly type: 'level'; readonly level: FrameLevel }
  | { readonly type: 'error'; readonly error: unknown };

const IDLE: View = {
  transcript: { finals: [], partial: '' },
  status: { state: 'idle' },
  metrics: { level: 0, audioSentMs: 0, droppedMs: 0, reconnects: 0 },
};

function messageOf(error: unknown): string {
  if (isMicrophoneError(error)) return `${error.reason}: ${error.message}`;
  if (isTranscriptionError(error)) return `${error.kind}: ${error.message}`;
  return String(error);
}

function reduce(view: View, update: Update): View {
  switch (update.type) {
    case 'event': {
      const { event } = update;
      if (event.type === 'partial')
        return { ...view, transcript: { ...view.transcript, partial: event.text } };
      if (event.type !== 'final' || event.text === '') return view;
      return { ...view, transcript: { finals: [...view.transcript.finals, event.text], partial: '' } };
    }
    case 'status':
      return view.status.state === 'error' ? view : { ...view, status: { state: update.status.state } };
    case 'metrics': {
      const { audioSentMs, droppedMs, reconnects } = update.metrics;
      return { ...view, metrics: { ...view.metrics, audioSentMs, droppedMs, reconnects } };
    }
    case 'level':
      return { ...view, metrics: { ...view.metrics, level: update.level.rms } };
    case 'error':
      return { ...view, status: { state: 'error', error: messageOf(update.error) } };
  }
}

/**
 * Live captions from the microphone: `fromMicrophone().pipe(transcribe(...))`
 * behind three Observables. `start()` (call it from a click: browsers start
 * audio only after a user gesture) opens a capture and a session; `stop()` ends
 * the capture gracefully, so the last words still arrive. The pipeline runs
 * while someone watches (toSignal in a component) and stops when nobody does.
 */
@Injectable({ providedIn: 'root' })
export class TranscriptionService {
  private readonly url = inject(TRANSCRIBE_URL);
  private readonly starts = new Subject<void>();
  private microphone: MicrophoneSource | undefined;

  private readonly view$: Observable<View> = this.starts.pipe(
    switchMap(() => {
      const microphone = fromMicrophone();
      const session = transcribe({ url: this.url });
      this.microphone = microphone;
      // Status and metrics are subscribed before the audio, so none of their updates is missed.
      return merge(
        session.status$.pipe(map((status): Update => ({ type: 'status', status }))),
        session.metrics$.pipe(map((metrics): Update => ({ type: 'metrics', metrics }))),
        microphone.level$.pipe(map((level): Update => ({ type: 'level', level }))),
        microphone.pipe(
          session,
          map((event): Update => ({ type: 'event', event })),
          catchError((error: unknown) => of<Update>({ type: 'error', error })),
        ),
      ).pipe(scan(reduce, { ...IDLE, status: { state: 'starting' } }));
    }),
    startWith(IDLE),
    shareReplay({ bufferSize: 1, refCount: true }),
  );

  /** The settled lines and the live partial line. */
  readonly transcript$: Observable<Transcript> = this.view$.pipe(
    map((view) => view.transcript),
    distinctUntilChanged(),
  );
  /** The connection's state (and the error, if it failed). */
  readonly status$: Observable<Status> = this.view$.pipe(
    map((view) => view.status),
    distinctUntilChanged(),
  );
  /** The level meter's value and the session's counts. */
  readonly metrics$: Observable<Metrics> = this.view$.pipe(
    map((view) => view.metrics),
    distinctUntilChanged(),
  );

  /** Opens the microphone and a session (a running one is stopped at once first). */
  start(): void {
    this.starts.next();
  }

  /** Ends the capture; the session completes after the last final. */
  stop(): void {
    this.microphone?.stop();
  }
}
