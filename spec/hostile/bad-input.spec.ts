import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, type Observable, of, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import type { TranscriptionError } from '../../src/errors/transcription-error.js';
import { type TranscribeOptions, transcribe } from '../../src/operators/transcribe.js';
import type { SessionMetrics } from '../../src/session/session-metrics.js';
import { fromAsyncIterable } from '../../src/sources/from-async-iterable.js';
import { fromFile } from '../../src/sources/from-file.js';
import { syntheticPcm, wavHeader } from '../helpers/audio.js';
import { syntheticSuite } from '../helpers/synthetic-suite.js';

const MONO_16K: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
const suite = syntheticSuite('bad-input');
const dir = suite.dir;

async function failure(audio: Observable<unknown>, options: Partial<TranscribeOptions> = {}) {
  try {
    await lastValueFrom(
      (audio as Observable<AudioChunk>).pipe(transcribe({ url: suite.server.url, ...options }), toArray()),
    );
  } catch (error) {
    return error as TranscriptionError;
  }
  throw new Error('expected the transcription to fail');
}

function wavFile(name: string, rate: number, channels = 1, pcm = syntheticPcm(0.5)): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([wavHeader(pcm.length, rate, channels), pcm]));
  return path;
}

describe('input that is not audio: bad-audio saying what came instead, never a TypeError', () => {
  const notChunks: Array<[string, unknown, RegExp]> = [
    ['a string', 'hello', /expected an AudioChunk .*got a string \("hello"\)/],
    ['a number', 42, /got the number 42/],
    ['null', null, /got null/],
    ['bytes', new Uint8Array(8), /got a Uint8Array of 8 bytes \(bytes: decode them with decodePcm/],
    ['a chunk without a format', { samples: new Int16Array(4) }, /got an object with samples/],
    [
      'samples that are an array',
      { format: MONO_16K, samples: [1, 2, 3] },
      /Int16Array or a Float32Array, got an array of 3/,
    ],
    [
      'the wrong typed array',
      { format: MONO_16K, samples: new Float32Array(4) },
      /pcm_s16le holds a Float32Array/,
    ],
    [
      'half a stereo frame',
      { format: { ...MONO_16K, channels: 2 }, samples: new Int16Array(3) },
      /3 samples is not whole sample frames of 2 channels/,
    ],
  ];
  for (const [name, value, message] of notChunks) {
    it(name, async () => {
      const subject = new Subject<unknown>();
      const failing = failure(subject);
      subject.next(value);
      const error = await failing;
      expect(error).toMatchObject({ name: 'TranscriptionError', kind: 'bad-audio', retryable: false });
      expect(error.message).toMatch(message);
    });
  }

  const formats: Array<[string, Partial<AudioFormat>, RegExp]> = [
    ['a rate of 0', { sampleRate: 0 }, /sample rate must be a whole number of Hz from 1000 to 768000, got 0/],
    ['a rate of 10 MHz', { sampleRate: 10_000_000 }, /from 1000 to 768000, got 10000000/],
    ['no channels', { channels: 0 }, /channels must be|not whole sample frames of 0 channels/],
    ['an unknown encoding', { encoding: 'mp3' as AudioFormat['encoding'] }, /pcm_s16le|encoding/],
  ];
  for (const [name, change, message] of formats) {
    it(`a chunk with ${name}`, async () => {
      const error = await failure(of({ format: { ...MONO_16K, ...change }, samples: new Int16Array(160) }));
      expect(error).toMatchObject({ kind: 'bad-audio' });
      expect(error.message).toMatch(message);
    });
  }

  it('a source that errors with a plain Error: bad-audio, the original kept as its cause', async () => {
    const original = new Error('the microphone went away');
    const subject = new Subject<AudioChunk>();
    const failing = failure(subject);
    subject.error(original);
    const error = await failing;
    expect(error).toMatchObject({ kind: 'bad-audio', cause: original });
    expect(error.message).toMatch(/the audio source failed: the microphone went away/);
  });
});

describe('one range of sample rates for every path: WAV, raw and chunks', () => {
  for (const rate of [0, 1, 999, 10_000_000]) {
    it(`a WAV file at ${rate} Hz`, async () => {
      const error = await failure(fromFile(wavFile(`rate-${rate}.wav`, rate)));
      expect(error).toMatchObject({ kind: 'bad-audio' });
      expect(error.message).toMatch(
        /rate-\d+\.wav \(its WAV header\): sample rate must be a whole number of Hz from 1000 to 768000/,
      );
    });
  }

  it('raw PCM at 1 Hz is refused as the WAV and the chunk are', async () => {
    const error = await failure(fromAsyncIterable([new Uint8Array(4)], { ...MONO_16K, sampleRate: 1 }));
    expect(error).toMatchObject({ kind: 'bad-audio' });
    expect(error.message).toMatch(/from 1000 to 768000, got 1$/);
  });

  it('a WAV at the edges of the range (1000 Hz, 768000 Hz) is taken and resampled', async () => {
    for (const rate of [1000, 768_000]) {
      const pcm = syntheticPcm(0.25, rate);
      const events = await lastValueFrom(
        fromFile(wavFile(`edge-${rate}.wav`, rate, 1, pcm)).pipe(
          transcribe({ url: suite.server.url }),
          toArray(),
        ),
      );
      expect(events.at(-1)?.type).toBe('final');
    }
  });
});

describe('a trailing byte that is not a whole sample frame', () => {
  it('is counted in stats() and metrics$ and logged as a warning, not dropped in silence', async () => {
    const pcm = syntheticPcm(1);
    const odd = Buffer.concat([pcm, Buffer.from([7])]);
    const warnings: Array<[Record<string, unknown>, string]> = [];
    const noop = () => {};
    const t = transcribe({
      url: suite.server.url,
      metricsIntervalMs: 5,
      logger: { info: noop, error: noop, warn: (object, message) => warnings.push([object, message]) },
    });
    const samples: SessionMetrics[] = [];
    const watching = t.metrics$.subscribe((m) => samples.push(m));
    await lastValueFrom(fromAsyncIterable([odd], MONO_16K).pipe(t, toArray()));
    await new Promise((resolve) => setTimeout(resolve, 20));
    watching.unsubscribe();
    expect(t.stats()).toMatchObject({ trailingBytes: 1, emittedSamples: 16000 });
    expect(samples.at(-1)?.trailingBytes).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]![0]).toMatchObject({ trailingBytes: 1, frameBytes: 2, session: 1 });
    expect(warnings[0]![1]).toMatch(
      /the async iterable ended with 1 byte short of a whole sample frame \(2 bytes\)/,
    );
  });

  it('in a WAV whose data chunk ends inside a stereo frame', async () => {
    const pcm = syntheticPcm(0.5);
    const path = join(dir, 'odd-stereo.wav');
    const data = pcm.subarray(0, pcm.length - 2); // a whole number of 2-byte samples, half a 4-byte frame left over
    writeFileSync(path, Buffer.concat([wavHeader(data.length, 16000, 2), data]));
    const t = transcribe({ url: suite.server.url });
    await lastValueFrom(fromFile(path).pipe(t, toArray()));
    expect(t.stats()?.trailingBytes).toBe(data.length % 4);
    expect(t.stats()?.trailingBytes).toBeGreaterThan(0);
  });
});
