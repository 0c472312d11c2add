// The page of bench/microphone-main-thread.mjs, bundled for Chromium: the same capture
// (Chromium's fake device playing a WAV) through rxjs-transcribe, or through the
// floor, a minimal hand-written loop: getUserMedia, the same AudioWorklet (so the
// audio thread's work is the same), and each frame sent on a WebSocket. Both ask
// for text without word times: the reference engine can report a confidence of
// 1.0001, which rxjs-transcribe refuses as a protocol error (the engine's bug).
import { lastValueFrom, tap, toArray } from 'rxjs';
import { fromMicrophone, transcribe, vosk } from 'rxjs-transcribe';
import { MICROPHONE_WORKLET_CODE } from '../dist/esm/sources/microphone-worklet-code.js';

/** fromMicrophone().pipe(transcribe(...)) until `durationMs` is captured; the finals it heard. */
async function library(serverUrl, durationMs) {
  const mic = fromMicrophone();
  const events = await lastValueFrom(
    mic.pipe(
      tap(() => {
        const { capturedMs } = mic.stats();
        globalThis.capturedMs = capturedMs; // for the benchmark's steady-state window
        if (capturedMs >= durationMs) mic.stop();
      }),
      transcribe({ url: serverUrl, protocol: vosk({ words: false }) }),
      toArray(),
    ),
  );
  return { finals: events.filter((e) => e.type === 'final').length, sentMs: mic.stats().emittedMs };
}

/** The floor: what a careful developer writes by hand for the same result, and no more. */
async function floor(serverUrl, durationMs) {
  const context = new AudioContext();
  const url = URL.createObjectURL(new Blob([MICROPHONE_WORKLET_CODE], { type: 'text/javascript' }));
  const [stream] = await Promise.all([
    navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    }),
    context.audioWorklet.addModule(url),
  ]);
  URL.revokeObjectURL(url);
  const socket = new WebSocket(serverUrl);
  socket.binaryType = 'arraybuffer';
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  socket.send('{"config": {"sample_rate": 16000, "words": false}}');
  const node = new AudioWorkletNode(context, 'rxjs-transcribe-microphone', {
    numberOfInputs: 1,
    numberOfOutputs: 0,
    channelCount: 1,
    channelCountMode: 'explicit',
    processorOptions: { outputRate: 16000, frameSamples: 1600 },
  });
  let sent = 0;
  let finals = 0;
  let ended = false;
  node.port.onmessage = (event) => {
    const message = event.data;
    if (message.type === 'frame') {
      socket.send(message.samples);
      sent += message.samples.length;
      globalThis.capturedMs = (message.inputFrames * 1000) / context.sampleRate;
      if (!ended && globalThis.capturedMs >= durationMs) {
        ended = true;
        node.port.postMessage({ type: 'flush' });
      }
    } else socket.send('{"eof" : 1}');
  };
  const closed = new Promise((resolve) => {
    socket.onclose = resolve;
  });
  socket.onmessage = (event) => {
    // The server answers every message and closes after the answer to the EOF.
    if (typeof JSON.parse(event.data).text === 'string') finals += 1;
  };
  context.createMediaStreamSource(stream).connect(node);
  await closed;
  for (const track of stream.getTracks()) track.stop();
  node.disconnect();
  await context.close();
  return { finals, sentMs: (sent * 1000) / 16000 };
}

/** Nothing: the page's own main-thread time over the same span, to subtract. */
async function idle(_serverUrl, durationMs) {
  const started = performance.now();
  // Read only when the benchmark polls: no timer of its own to count.
  Object.defineProperty(globalThis, 'capturedMs', {
    get: () => performance.now() - started,
    configurable: true,
  });
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  return { finals: 0, sentMs: 0 };
}

Object.assign(globalThis, { benchmarks: { library, floor, idle } });
