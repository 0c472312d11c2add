import type { FrameLevel } from './microphone-framer.js';

/** The name the capture worklet registers its processor under. */
export const MICROPHONE_PROCESSOR = 'rxjs-transcribe-microphone';

/** What the main thread gives the capture processor (`processorOptions`). */
export interface MicrophoneProcessorOptions {
  readonly outputRate: number;
  readonly frameSamples: number;
}

/** Main thread to worklet: end the stream (send the rest, then `flushed`). */
export interface FlushMessage {
  readonly type: 'flush';
}

/** Worklet to main thread: a frame of 16-bit mono at the output rate (its buffer transferred). */
export interface FrameMessage {
  readonly type: 'frame';
  readonly samples: Int16Array;
  readonly level: FrameLevel;
  /** Sample frames the worklet has taken in so far, at the context's rate. */
  readonly inputFrames: number;
}

/** Worklet to main thread: every frame has been sent; nothing follows. */
export interface FlushedMessage {
  readonly type: 'flushed';
  readonly inputFrames: number;
}

export type WorkletMessage = FrameMessage | FlushedMessage;
