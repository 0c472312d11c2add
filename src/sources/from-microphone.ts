import { Observable, Subject } from 'rxjs';
import type { AudioChunk, AudioFormat } from '../audio/audio-format.js';
import { MicrophoneError, microphoneErrorOf } from './microphone-error.js';
import type { FrameLevel } from './microphone-framer.js';
import {
  type FlushMessage,
  MICROPHONE_PROCESSOR,
  type MicrophoneProcessorOptions,
  type WorkletMessage,
} from './microphone-messages.js';
import { MICROPHONE_WORKLET_CODE } from './microphone-worklet-code.js';

/** Options of {@link fromMicrophone}. */
export interface FromMicrophoneOptions {
  /** Which microphone (from `navigator.mediaDevices.enumerateDevices()`); default the system's. */
  readonly deviceId?: string;
  /** The rate of the frames, the protocol's: 16,000 (default) for Vosk and Deepgram, 24,000 for OpenAI. */
  readonly sampleRate?: number;
  /** Milliseconds of audio in each frame. Default 100, `transcribe`'s own `frameMs`, so frames pass on uncut. */
  readonly frameMs?: number;
  /**
   * The browser's voice processing, made for calls, not for recognisers: each
   * is off by default (recognisers do better on the plain signal). Turn echo
   * cancellation on when the page plays audio the microphone would hear.
   */
  readonly echoCancellation?: boolean;
  readonly noiseSuppression?: boolean;
  readonly autoGainControl?: boolean;
  /** Further getUserMedia audio constraints (they win over the options above). */
  readonly constraints?: MediaTrackConstraints;
  /**
   * How long to wait for a suspended AudioContext to start before erroring
   * with reason `suspended` (subscribe from a user gesture). Default 3,000 ms.
   */
  readonly resumeTimeoutMs?: number;
}

/** Counts of a source's latest capture. */
export interface MicrophoneStats {
  /** The AudioContext's rate (the device's, or the output's: browsers convert). */
  readonly contextSampleRate: number;
  /** The track's own rate, as the browser reports it (0 if it does not). */
  readonly deviceSampleRate: number;
  /** Audio the worklet took in, at the context's rate. */
  readonly capturedFrames: number;
  readonly capturedMs: number;
  /** Audio emitted, at `sampleRate`: all of it reaches the subscriber, none is dropped here. */
  readonly emittedSamples: number;
  readonly emittedMs: number;
  /** Chunks emitted. */
  readonly frames: number;
}

/**
 * The microphone as audio: an Observable of 16-bit mono chunks at
 * `sampleRate`, with controls over the captures it is running.
 */
export interface MicrophoneSource extends Observable<AudioChunk> {
  /**
   * Mutes (true) or unmutes every capture of this source. A muted track gives
   * silence, so sessions stay open, the timeline goes on and the server can
   * settle what was said.
   */
  setMuted(muted: boolean): void;
  readonly muted: boolean;
  /**
   * Ends every capture gracefully: the audio captured so far is emitted, then
   * completion, so `transcribe` sends end-of-stream and completes after the
   * last final. (Unsubscribing instead stops at once.)
   */
  stop(): void;
  /** The level of each frame as it is emitted (for a meter), from every capture. */
  readonly level$: Observable<FrameLevel>;
  /** Counts of the latest capture (zeros before the first). */
  stats(): MicrophoneStats;
}

interface Capture {
  finish(): void;
  setMuted(muted: boolean): void;
}

const EMPTY_STATS: MicrophoneStats = {
  contextSampleRate: 0,
  deviceSampleRate: 0,
  capturedFrames: 0,
  capturedMs: 0,
  emittedSamples: 0,
  emittedMs: 0,
  frames: 0,
};

function validated(options: FromMicrophoneOptions): { sampleRate: number; frameSamples: number } {
  const sampleRate = options.sampleRate ?? 16000;
  const frameMs = options.frameMs ?? 100;
  if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 768000) {
    throw new RangeError(
      `fromMicrophone: sampleRate must be a whole number of Hz from 1000 to 768000, got ${sampleRate}`,
    );
  }
  const frameSamples = Math.round((sampleRate * frameMs) / 1000);
  if (!(frameMs > 0) || !Number.isFinite(frameMs) || frameSamples < 1) {
    throw new RangeError(`fromMicrophone: frameMs must be a positive number of ms, got ${frameMs}`);
  }
  const resume = options.resumeTimeoutMs ?? 3000;
  if (!(resume > 0) || !Number.isFinite(resume)) {
    throw new RangeError(`fromMicrophone: resumeTimeoutMs must be a positive number of ms, got ${resume}`);
  }
  return { sampleRate, frameSamples };
}

/** Why capture cannot start here, if it cannot (before asking for anything). */
function environmentError(): MicrophoneError | undefined {
  const scope = globalThis as { isSecureContext?: boolean; navigator?: Navigator };
  const mediaDevices = scope.navigator?.mediaDevices;
  if (scope.isSecureContext === false) {
    return new MicrophoneError(
      'insecure-context',
      `fromMicrophone needs a secure context, and ${String((globalThis as { location?: Location }).location?.origin)} is not one: serve the page over https (or from localhost)`,
    );
  }
  if (typeof mediaDevices?.getUserMedia !== 'function') {
    return new MicrophoneError(
      'unsupported',
      'fromMicrophone needs a browser with navigator.mediaDevices.getUserMedia (in Node, use fromReadable or fromFile)',
    );
  }
  if (typeof AudioContext === 'undefined' || typeof AudioWorkletNode === 'undefined') {
    return new MicrophoneError(
      'unsupported',
      'fromMicrophone needs a browser with AudioContext and AudioWorklet',
    );
  }
  return undefined;
}

/** Resolves true once the context runs, false if it is still suspended after `timeoutMs`. */
async function started(context: AudioContext, timeoutMs: number): Promise<boolean> {
  if (context.state === 'running') return true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    // resume() stays pending (it does not reject) until a user gesture allows audio.
    await Promise.race([context.resume(), timeout]);
  } catch {
    // A closed context: reported below as not running.
  } finally {
    clearTimeout(timer);
  }
  return (context.state as string) === 'running';
}

/**
 * The microphone, through getUserMedia and an AudioWorklet: the worklet runs
 * at the AudioContext's own rate (no `AudioContext({ sampleRate })`, which
 * Firefox refuses when it differs from the device's), mixes to mono, resamples
 * to `sampleRate` with the library's band-limited {@link Resampler}, converts
 * to 16-bit and posts frames of `frameMs` to the main thread with their buffers
 * transferred. The worklet ships inline, loaded from a Blob URL (a strict CSP
 * must allow `blob:` in `script-src`; see docs/sources/from-microphone.md).
 *
 * Each subscription opens its own capture (its own permission prompt, track,
 * context and worklet); unsubscribing stops the tracks, disconnects the nodes
 * and closes the context. A microphone cannot wait: `transcribe` holds what
 * the server has not asked for yet in its bounded buffer (`maxBufferMs`,
 * `overflow`), where every dropped sample is counted (`stats()`, `metrics$`).
 *
 * Errors are {@link MicrophoneError}s (kind `bad-audio`) with a `reason`:
 * `permission-denied`, `no-device`, `device-busy`, `device-lost` (unplugged
 * mid-stream), `insecure-context`, `suspended` (no user gesture), `unsupported`.
 *
 * @example
 * const mic = fromMicrophone();
 * mic.pipe(transcribe({ url: 'wss://stt.example.com' })).subscribe((e) => show(e));
 * stopButton.onclick = () => mic.stop(); // the last words still arrive
 */
export function fromMicrophone(options: FromMicrophoneOptions = {}): MicrophoneSource {
  const { sampleRate, frameSamples } = validated(options);
  const resumeTimeoutMs = options.resumeTimeoutMs ?? 3000;
  const format: AudioFormat = { sampleRate, channels: 1, encoding: 'pcm_s16le' };
  const captures = new Set<Capture>();
  const levels = new Subject<FrameLevel>();
  let muted = false;
  let latest: MicrophoneStats = EMPTY_STATS;

  const audio = new Observable<AudioChunk>((subscriber) => {
    let closed = false;
    let finishing = false;
    let context: AudioContext | undefined;
    let stream: MediaStream | undefined;
    let input: MediaStreamAudioSourceNode | undefined;
    let node: AudioWorkletNode | undefined;
    let stats: MicrophoneStats = EMPTY_STATS;
    latest = stats;

    const onEnded = (): void => {
      fail(
        new MicrophoneError(
          'device-lost',
          'the microphone stopped mid-stream (unplugged, disabled, or its permission revoked): subscribe again to capture from another device',
        ),
      );
    };

    const release = (): void => {
      closed = true;
      captures.delete(capture);
      for (const track of stream?.getTracks() ?? []) {
        track.removeEventListener('ended', onEnded);
        track.stop();
      }
      input?.disconnect();
      if (node !== undefined) {
        node.port.onmessage = null;
        node.onprocessorerror = null;
        node.disconnect();
        node.port.close();
      }
      if (context !== undefined && context.state !== 'closed') context.close().catch(() => {});
    };

    const fail = (error: unknown): void => {
      if (closed) return;
      release();
      subscriber.error(error);
    };

    const onMessage = (event: MessageEvent<WorkletMessage>): void => {
      if (closed) return;
      const message = event.data;
      const capturedFrames = message.inputFrames;
      if (message.type === 'frame') {
        const emitted = stats.emittedSamples + message.samples.length;
        stats = {
          ...stats,
          capturedFrames,
          capturedMs: (capturedFrames * 1000) / stats.contextSampleRate,
          emittedSamples: emitted,
          emittedMs: (emitted * 1000) / sampleRate,
          frames: stats.frames + 1,
        };
        latest = stats;
        subscriber.next({ format, samples: message.samples });
        if (levels.observed) levels.next(message.level);
      } else {
        stats = { ...stats, capturedFrames, capturedMs: (capturedFrames * 1000) / stats.contextSampleRate };
        latest = stats;
        release();
        subscriber.complete();
      }
    };

    const capture: Capture = {
      finish() {
        if (finishing || closed) return;
        finishing = true;
        if (node === undefined) {
          // Not capturing yet: nothing was captured, so the end is now.
          release();
          subscriber.complete();
        } else node.port.postMessage({ type: 'flush' } satisfies FlushMessage);
      },
      setMuted(value) {
        for (const track of stream?.getAudioTracks() ?? []) track.enabled = !value;
      },
    };
    captures.add(capture);

    const start = async (): Promise<void> => {
      const unavailable = environmentError();
      if (unavailable !== undefined) throw unavailable;
      context = new AudioContext({ latencyHint: 'interactive' });
      const url = URL.createObjectURL(new Blob([MICROPHONE_WORKLET_CODE], { type: 'text/javascript' }));
      const constraints: MediaTrackConstraints = {
        ...(options.deviceId !== undefined ? { deviceId: { exact: options.deviceId } } : {}),
        echoCancellation: options.echoCancellation ?? false,
        noiseSuppression: options.noiseSuppression ?? false,
        autoGainControl: options.autoGainControl ?? false,
        ...options.constraints,
      };
      // The worklet loads while the user answers the prompt.
      const loaded = context.audioWorklet.addModule(url).finally(() => URL.revokeObjectURL(url));
      loaded.catch(() => {}); // awaited below, after the prompt: not an unhandled rejection meanwhile
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: constraints });
      } catch (error) {
        throw microphoneErrorOf(error, options.deviceId);
      }
      if (closed) return release();
      const track = stream.getAudioTracks()[0];
      if (track === undefined) throw new MicrophoneError('no-device', 'getUserMedia gave no audio track');
      track.addEventListener('ended', onEnded);
      if (muted) track.enabled = false;
      try {
        await loaded;
      } catch (error) {
        throw new MicrophoneError(
          'unsupported',
          'the capture worklet did not load: a Content-Security-Policy must allow blob: in script-src (worklets load as scripts), see docs/sources/from-microphone.md',
          error,
        );
      }
      if (closed) return;
      if (!(await started(context, resumeTimeoutMs))) {
        throw new MicrophoneError(
          'suspended',
          'the AudioContext stayed suspended: browsers start audio only after a user gesture, so subscribe from a click (or keydown) handler',
        );
      }
      if (closed) return;
      stats = {
        ...EMPTY_STATS,
        contextSampleRate: context.sampleRate,
        deviceSampleRate: track.getSettings().sampleRate ?? 0,
      };
      latest = stats;
      const processorOptions: MicrophoneProcessorOptions = { outputRate: sampleRate, frameSamples };
      node = new AudioWorkletNode(context, MICROPHONE_PROCESSOR, {
        numberOfInputs: 1,
        numberOfOutputs: 0,
        // The browser mixes to mono (in native code) before the worklet.
        channelCount: 1,
        channelCountMode: 'explicit',
        channelInterpretation: 'speakers',
        processorOptions,
      });
      node.port.onmessage = onMessage;
      node.onprocessorerror = (event) =>
        fail(new MicrophoneError('unsupported', 'the capture worklet failed', event));
      input = context.createMediaStreamSource(stream);
      input.connect(node);
    };
    start().catch(fail);

    return release;
  });

  // A getter for `muted` (Object.assign would copy its value once).
  Object.defineProperty(audio, 'muted', { get: () => muted, enumerable: true });
  return Object.assign(audio, {
    setMuted(value: boolean): void {
      muted = value;
      for (const capture of captures) capture.setMuted(value);
    },
    stop(): void {
      for (const capture of [...captures]) capture.finish();
    },
    level$: levels.asObservable(),
    stats: (): MicrophoneStats => latest,
  }) as MicrophoneSource;
}
