// The capture processor, run on the audio thread. Not imported by the library:
// scripts/microphone-worklet.mjs bundles it (with the framer and the resampler)
// into the string of microphone-worklet-code.ts, which the main thread loads
// from a Blob URL, so that no bundler needs to emit a worklet file.
import { MicrophoneFramer } from './microphone-framer.js';
import {
  type FlushMessage,
  MICROPHONE_PROCESSOR,
  type MicrophoneProcessorOptions,
  type WorkletMessage,
} from './microphone-messages.js';

// The AudioWorkletGlobalScope's names (not in TypeScript's DOM library).
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(
  name: string,
  processor: new (options: { processorOptions: MicrophoneProcessorOptions }) => AudioWorkletProcessor,
): void;

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly framer: MicrophoneFramer;
  private done = false;

  constructor(options: { processorOptions: MicrophoneProcessorOptions }) {
    super();
    const { outputRate, frameSamples } = options.processorOptions;
    const post = (message: WorkletMessage, transfer: Transferable[] = []): void =>
      this.port.postMessage(message, transfer);
    this.framer = new MicrophoneFramer(
      { inputRate: sampleRate, outputRate, frameSamples },
      (samples, level) =>
        post({ type: 'frame', samples, level, inputFrames: this.framer.inputFrames }, [samples.buffer]),
    );
    this.port.onmessage = (event: MessageEvent<FlushMessage>) => {
      if (event.data.type !== 'flush' || this.done) return;
      this.done = true;
      this.framer.flush();
      post({ type: 'flushed', inputFrames: this.framer.inputFrames });
    };
  }

  process(inputs: Float32Array[][]): boolean {
    if (this.done) return false; // lets the browser collect the node
    const input = inputs[0];
    if (input !== undefined) this.framer.push(input);
    return true;
  }
}

registerProcessor(MICROPHONE_PROCESSOR, CaptureProcessor);
