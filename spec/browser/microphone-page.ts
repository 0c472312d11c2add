// Bundled for the microphone tests in Chromium: the package as a browser bundler
// sees it. Chromium's fake capture device plays a WAV file as the microphone.
import { firstValueFrom, lastValueFrom, take, tap, toArray } from 'rxjs';
import {
  fromMicrophone,
  isMicrophoneError,
  isTranscriptionError,
  type MicrophoneStats,
  type TranscribeStats,
  type TranscriptEvent,
  transcribe,
  vosk,
} from 'rxjs-transcribe';

// What the page opened, to check that everything is closed again: the library
// is not asked, the browser's own objects are.
const contexts: AudioContext[] = [];
const streams: MediaStream[] = [];
const NativeAudioContext = AudioContext;
/**
 * Set by the test: contexts stay suspended, as a browser's autoplay policy keeps them without
 * a user gesture. (Chromium lets a page that captures start audio, so the policy alone cannot.)
 */
let blockAudio = false;
globalThis.AudioContext = class extends NativeAudioContext {
  constructor(options?: AudioContextOptions) {
    super(options);
    contexts.push(this);
    if (blockAudio) void this.suspend();
  }
  override resume(): Promise<void> {
    return blockAudio ? new Promise<void>(() => {}) : super.resume();
  }
};
if (navigator.mediaDevices !== undefined) {
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    streams.push(stream);
    return stream;
  };
}

/** The state of every context and track the page opened. */
function opened(): { contexts: string[]; tracks: string[] } {
  return {
    contexts: contexts.map((c) => c.state),
    tracks: streams.flatMap((s) => s.getTracks().map((t) => t.readyState)),
  };
}

function errorOf(error: unknown): unknown {
  if (isMicrophoneError(error)) return { reason: error.reason, kind: error.kind, message: error.message };
  if (isTranscriptionError(error)) return { kind: error.kind, message: error.message };
  return { message: String(error) };
}

/** The whole file through the microphone and transcribe: stops once `durationMs` is captured. */
async function transcribeMicrophone(
  serverUrl: string,
  durationMs: number,
  words = true,
): Promise<{ events: TranscriptEvent[]; mic: MicrophoneStats; flow: TranscribeStats | undefined }> {
  const mic = fromMicrophone();
  const operator = transcribe({ url: serverUrl, protocol: vosk({ words }) });
  const events = await lastValueFrom(
    mic.pipe(
      tap(() => {
        if (mic.stats().capturedMs >= durationMs) mic.stop();
      }),
      operator,
      toArray(),
    ),
  );
  return { events, mic: mic.stats(), flow: operator.stats() };
}

/** Subscribes, takes a few frames, unsubscribes; twice at once; reports what stayed open. */
async function lifecycle(): Promise<unknown> {
  const mic = fromMicrophone({ frameMs: 20 });
  const [a, b] = await Promise.all([
    lastValueFrom(mic.pipe(take(5), toArray())),
    lastValueFrom(mic.pipe(take(3), toArray())),
  ]);
  await new Promise((resolve) => setTimeout(resolve, 100)); // close() settles asynchronously
  return {
    counts: [a.length, b.length],
    frameSizes: [...a, ...b].map((chunk) => chunk.samples.length),
    format: a[0]!.format,
    ...opened(),
  };
}

/** Mutes mid-session: the session stays open and frames keep coming, silent, then sound again. */
async function mute(serverUrl: string): Promise<unknown> {
  const mic = fromMicrophone({ frameMs: 20 });
  // Finals without word times: once in CI the reference engine gave word times past the audio
  // sent (4,650 ms against 3,068 ms, after muted digital silence), which the session rightly
  // refuses; that is the engine's bug to find (see the session note), not this test's subject.
  const operator = transcribe({ url: serverUrl, protocol: vosk({ words: false }) });
  const levels: Array<{ muted: boolean; peak: number }> = [];
  const statuses: string[] = [];
  const done = lastValueFrom(mic.pipe(operator, toArray()));
  operator.status$.subscribe((s) => statuses.push(s.state));
  const level = mic.level$.subscribe((l) => levels.push({ muted: mic.muted, peak: l.peak }));
  const frames = (n: number) => firstValueFrom(mic.level$.pipe(take(n), toArray()));
  // Past the file's leading silence, into speech.
  const soundBefore = (await frames(100)).slice(-25).map((l) => l.peak);
  mic.setMuted(true);
  const trackEnabled = streams.at(-1)!.getAudioTracks()[0]!.enabled;
  await frames(3); // frames under way when muted may still carry sound
  const mutedPeaks = (await frames(25)).map((l) => l.peak);
  mic.setMuted(false);
  await frames(25);
  const beforeStop = [...statuses];
  mic.stop();
  const events = await done;
  level.unsubscribe();
  return {
    trackEnabled,
    soundBefore,
    mutedPeaks,
    soundAfter: levels.slice(-20).some((l) => !l.muted && l.peak > 0),
    statusesBeforeStop: beforeStop,
    finals: events.filter((e) => e.type === 'final').length,
    ...opened(),
  };
}

/** The error fromMicrophone(options) ends with (or that it captured), and what stayed open. */
async function microphoneError(
  options: { deviceId?: string; resumeTimeoutMs?: number },
  blocked = false,
): Promise<unknown> {
  blockAudio = blocked;
  try {
    await lastValueFrom(fromMicrophone(options).pipe(take(1)));
    return { captured: true };
  } catch (error) {
    return { error: errorOf(error), ...opened() };
  }
}

/** Captures until the test revokes the permission (or the device goes): the error that ends it. */
async function untilLost(): Promise<unknown> {
  const mic = fromMicrophone();
  (globalThis as { capturing?: boolean }).capturing = false;
  try {
    await lastValueFrom(
      mic.pipe(
        tap(() => {
          (globalThis as { capturing?: boolean }).capturing = true;
        }),
      ),
    );
    return { completed: true };
  } catch (error) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { error: errorOf(error), ...opened() };
  }
}

Object.assign(globalThis, { transcribeMicrophone, lifecycle, mute, microphoneError, untilLost });
