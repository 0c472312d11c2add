// Bundled for the microphone tests in Firefox: fromMicrophone as a page uses it.
// The microphone is a PulseAudio source (a tone, or a LibriVox file fed into a pipe).
import { lastValueFrom, tap, toArray } from 'rxjs';
import {
  fromMicrophone,
  isMicrophoneError,
  isTranscriptionError,
  type TranscriptEvent,
  transcribe,
  vosk,
} from 'rxjs-transcribe';

function errorOf(error: unknown): unknown {
  if (isMicrophoneError(error)) return { reason: error.reason, kind: error.kind, message: error.message };
  if (isTranscriptionError(error)) return { kind: error.kind, message: error.message };
  return { message: String(error) };
}

/**
 * Captures for `seconds` after the first frame and reports the rate of the frames and how
 * many samples came per second of wall time (between the first frame and the last).
 */
async function captureRate(seconds: number): Promise<unknown> {
  const mic = fromMicrophone();
  let first: { at: number; samples: number } | undefined;
  let last = { at: 0, samples: 0 };
  let samples = 0;
  const rates = new Set<number>();
  try {
    await lastValueFrom(
      mic.pipe(
        tap((chunk) => {
          rates.add(chunk.format.sampleRate);
          const now = performance.now();
          if (first === undefined) first = { at: now, samples: chunk.samples.length };
          samples += chunk.samples.length;
          last = { at: now, samples };
          if (now - first.at >= seconds * 1000) mic.stop();
        }),
      ),
    );
  } catch (error) {
    return { error: errorOf(error) };
  }
  const stats = mic.stats();
  const wallMs = last.at - (first?.at ?? 0);
  return {
    rates: [...rates],
    samplesPerSecond: ((last.samples - (first?.samples ?? 0)) * 1000) / wallMs,
    stats,
  };
}

/** The microphone through transcribe to the server until `durationMs` is captured after the first frame (`capturing` is then set). */
async function transcribeMicrophone(serverUrl: string, durationMs: number): Promise<unknown> {
  const mic = fromMicrophone();
  const operator = transcribe({ url: serverUrl, protocol: vosk() });
  const page = globalThis as { capturing?: boolean };
  page.capturing = false;
  let startedMs: number | undefined;
  try {
    const events: TranscriptEvent[] = await lastValueFrom(
      mic.pipe(
        tap(() => {
          // The test starts the speech once capture runs, and it lasts durationMs from then.
          page.capturing = true;
          startedMs ??= mic.stats().capturedMs;
          if (mic.stats().capturedMs - startedMs >= durationMs) mic.stop();
        }),
        operator,
        toArray(),
      ),
    );
    return { events, mic: mic.stats(), flow: operator.stats() };
  } catch (error) {
    return { error: errorOf(error), mic: mic.stats(), flow: operator.stats() };
  }
}

Object.assign(globalThis, { captureRate, transcribeMicrophone });
