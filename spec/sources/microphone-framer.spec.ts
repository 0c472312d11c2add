import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { floatToInt16 } from '../../src/audio/pcm-convert.js';
import { Resampler } from '../../src/audio/resampler.js';
import { fromMicrophone } from '../../src/sources/from-microphone.js';
import { isMicrophoneError } from '../../src/sources/microphone-error.js';
import { CAPTURE_RESAMPLER, type FrameLevel, MicrophoneFramer } from '../../src/sources/microphone-framer.js';
import { MICROPHONE_PROCESSOR } from '../../src/sources/microphone-messages.js';
import { MICROPHONE_WORKLET_CODE } from '../../src/sources/microphone-worklet-code.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const QUANTUM = 128; // an AudioWorklet's render quantum

/** A deterministic speech-like signal: a few tones and noise, in [-0.9, 0.9]. */
function signal(length: number, rate: number, seed = 7): Float32Array {
  const out = new Float32Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const noise = (state / 2 ** 32 - 0.5) * 0.2;
    const t = i / rate;
    out[i] = 0.4 * Math.sin(2 * Math.PI * 220 * t) + 0.3 * Math.sin(2 * Math.PI * 1900 * t) + noise;
  }
  return out;
}

function tone(length: number, rate: number, hz: number, amplitude: number): Float32Array {
  return Float32Array.from({ length }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
}

/** Runs the framer over `channels` in render quanta; returns the frames and levels. */
function frame(
  channels: Float32Array[],
  inputRate: number,
  outputRate: number,
  frameSamples: number,
): { frames: Int16Array[]; levels: FrameLevel[]; framer: MicrophoneFramer } {
  const frames: Int16Array[] = [];
  const levels: FrameLevel[] = [];
  const framer = new MicrophoneFramer({ inputRate, outputRate, frameSamples }, (f, level) => {
    frames.push(f);
    levels.push(level);
  });
  const length = channels[0]!.length;
  for (let at = 0; at < length; at += QUANTUM) {
    framer.push(channels.map((c) => c.subarray(at, Math.min(length, at + QUANTUM))));
  }
  framer.flush();
  return { frames, levels, framer };
}

function joined(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/** The reference pipeline, in one piece: Resampler then floatToInt16. */
function reference(mono: Float32Array, inputRate: number, outputRate: number): Int16Array {
  const resampler = new Resampler(inputRate, outputRate, CAPTURE_RESAMPLER);
  const a = resampler.process(mono);
  const b = resampler.flush();
  const all = new Float32Array(a.length + b.length);
  all.set(a);
  all.set(b, a.length);
  return floatToInt16(all);
}

/** RMS of the samples, less `edge` at each end (the filter's start-up and tail). */
function rms(samples: Int16Array, edge = 0): number {
  let sum = 0;
  for (let i = edge; i < samples.length - edge; i++) sum += (samples[i]! / 32768) ** 2;
  return Math.sqrt(sum / (samples.length - 2 * edge));
}

describe('MicrophoneFramer (the worklet’s logic)', () => {
  it.each([
    [44100, 16000],
    [48000, 16000],
    [48000, 24000],
    [44100, 24000],
  ])(
    'resamples %i Hz to %i Hz in render quanta exactly as the Node resampler does in one piece',
    (inRate, outRate) => {
      const input = signal(inRate * 2 + 77, inRate);
      const frameSamples = outRate / 10;
      const { frames, framer } = frame([input], inRate, outRate, frameSamples);
      const expected = reference(input, inRate, outRate);
      expect(joined(frames)).toEqual(expected);
      expect(expected.length).toBe(Math.ceil((input.length * outRate) / inRate));
      // Every frame is whole but the last, and the counts agree with what was emitted.
      expect(frames.slice(0, -1).every((f) => f.length === frameSamples)).toBe(true);
      expect(frames.at(-1)!.length).toBeLessThanOrEqual(frameSamples);
      expect(framer.inputFrames).toBe(input.length);
      expect(framer.outputSamples).toBe(expected.length);
    },
  );

  it('mixes channels to their mean before resampling', () => {
    const left = signal(44100, 44100, 1);
    const right = signal(44100, 44100, 2);
    const mean = left.map((x, i) => (x + right[i]!) / 2);
    const stereo = joined(frame([left, right], 44100, 16000, 800).frames);
    const mono = joined(frame([mean], 44100, 16000, 800).frames);
    expect(stereo).toEqual(mono);
  });

  it('passes samples through when the rates match, and gives each frame its own buffer', () => {
    const input = signal(16000, 16000);
    const { frames } = frame([input], 16000, 16000, 1600);
    expect(joined(frames)).toEqual(floatToInt16(input));
    expect(new Set(frames.map((f) => f.buffer)).size).toBe(frames.length);
  });

  it.each([48000, 44100])(
    'filters what would alias at %i Hz: tones from 8.4 kHz up are gone at 16 kHz, speech up to 7 kHz stays',
    (rate) => {
      const level = (hz: number) =>
        20 *
        Math.log10(
          rms(joined(frame([tone(rate, rate, hz, 0.5)], rate, 16000, 1600).frames), 400) / (0.5 / Math.SQRT2),
        );
      for (const hz of [8400, 10000, 15000]) expect(level(hz)).toBeLessThan(-80);
      for (const hz of [300, 1000, 4000, 7000]) expect(Math.abs(level(hz))).toBeLessThan(0.1);
    },
  );

  it('reports each frame’s peak and RMS', () => {
    const constant = new Float32Array(3200).fill(0.25);
    constant[100] = -0.75;
    const { levels } = frame([constant], 16000, 16000, 1600);
    expect(levels).toHaveLength(2);
    expect(levels[0]!.peak).toBeCloseTo(0.75, 6);
    expect(levels[0]!.rms).toBeCloseTo(Math.sqrt((1599 * 0.0625 + 0.5625) / 1600), 6);
    expect(levels[1]).toEqual({ peak: 0.25, rms: 0.25 });
  });

  it('rejects a frame size that is not a positive whole number', () => {
    expect(
      () => new MicrophoneFramer({ inputRate: 48000, outputRate: 16000, frameSamples: 0 }, () => {}),
    ).toThrow(RangeError);
  });
});

describe('the bundled worklet code', () => {
  it('is up to date with its sources', async () => {
    await expect(
      promisify(execFile)(process.execPath, [`${ROOT}scripts/microphone-worklet.mjs`, '--check']),
    ).resolves.toBeDefined();
  });

  it('registers a processor that frames like the framer, and flushes on request', () => {
    // A stand-in AudioWorkletGlobalScope: the names the worklet uses.
    const posted: Array<{ message: { type: string; samples?: Int16Array }; transfer: unknown[] }> = [];
    class AudioWorkletProcessor {
      readonly port = {
        onmessage: undefined as undefined | ((event: { data: unknown }) => void),
        postMessage: (message: { type: string; samples?: Int16Array }, transfer: unknown[] = []) =>
          posted.push({ message, transfer }),
      };
    }
    const registered = new Map<string, new (options: unknown) => AudioWorkletProcessor>();
    const registerProcessor = (name: string, processor: new (options: unknown) => AudioWorkletProcessor) =>
      registered.set(name, processor);
    new Function('sampleRate', 'AudioWorkletProcessor', 'registerProcessor', MICROPHONE_WORKLET_CODE)(
      44100,
      AudioWorkletProcessor,
      registerProcessor,
    );
    const Processor = registered.get(MICROPHONE_PROCESSOR)!;
    expect(Processor).toBeDefined();
    const processor = new Processor({
      processorOptions: { outputRate: 16000, frameSamples: 1600 },
    }) as AudioWorkletProcessor & { process(inputs: Float32Array[][]): boolean };
    const input = signal(44100, 44100);
    for (let at = 0; at < input.length; at += QUANTUM) {
      expect(processor.process([[input.subarray(at, at + QUANTUM)]])).toBe(true);
    }
    processor.port.onmessage!({ data: { type: 'flush' } });
    expect(processor.process([[new Float32Array(QUANTUM)]])).toBe(false);
    const frames = posted.filter((p) => p.message.type === 'frame');
    expect(frames.every((p) => p.transfer[0] === p.message.samples!.buffer)).toBe(true);
    expect(joined(frames.map((p) => p.message.samples!))).toEqual(reference(input, 44100, 16000));
    expect(posted.at(-1)!.message).toEqual({ type: 'flushed', inputFrames: 44100 });
  });
});

describe('fromMicrophone outside a browser', () => {
  it('errors with reason unsupported, saying what to use instead', async () => {
    const error = await lastValueFrom(fromMicrophone()).catch((e: unknown) => e);
    expect(isMicrophoneError(error)).toBe(true);
    expect(error).toMatchObject({ reason: 'unsupported', kind: 'bad-audio', retryable: false });
    expect((error as Error).message).toMatch(/getUserMedia.*fromReadable/);
  });

  it('rejects options it cannot honour', () => {
    expect(() => fromMicrophone({ sampleRate: 16000.5 })).toThrow(/sampleRate/);
    expect(() => fromMicrophone({ frameMs: 0 })).toThrow(/frameMs/);
    expect(() => fromMicrophone({ resumeTimeoutMs: -1 })).toThrow(/resumeTimeoutMs/);
  });
});
