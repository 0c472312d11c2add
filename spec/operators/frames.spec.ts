import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat, AudioFrame } from '../../src/audio/audio-format.js';
import { frames, samplesPerFrame } from '../../src/operators/frames.js';

const MONO_16K: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };

/** A chunk of `n` sample frames whose values count up from `start`. */
function chunk(n: number, start = 0, format: AudioFormat = MONO_16K): AudioChunk {
  const length = n * format.channels;
  const samples = format.encoding === 'pcm_s16le' ? new Int16Array(length) : new Float32Array(length);
  for (let i = 0; i < length; i++) samples[i] = (start + i) % 30000;
  return { format, samples };
}

const sizes = (list: readonly AudioFrame[]): number[] => list.map((f) => f.samples.length);

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('frames (marbles)', () => {
  it('emits a frame as soon as enough samples have arrived, and the short rest at completion', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // 10 ms frames at 16 kHz: 160 samples.
      const source = cold('-a-b-c-|', { a: chunk(100), b: chunk(100, 100), c: chunk(200, 200) });
      const result = source.pipe(frames({ durationMs: 10 }));
      expectObservable(result).toBe('---x-y-(z|)', {
        x: { format: MONO_16K, samples: chunk(160).samples, offset: 0 },
        y: { format: MONO_16K, samples: chunk(160, 160).samples, offset: 160 },
        z: { format: MONO_16K, samples: chunk(80, 320).samples, offset: 320 },
      });
    });
  });

  it('cuts one large chunk into many frames at the same instant', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const result = cold('-a------|', { a: chunk(480) }).pipe(frames({ durationMs: 10 }));
      expectObservable(result).toBe('-(xyz)--|', {
        x: { format: MONO_16K, samples: chunk(160).samples, offset: 0 },
        y: { format: MONO_16K, samples: chunk(160, 160).samples, offset: 160 },
        z: { format: MONO_16K, samples: chunk(160, 320).samples, offset: 320 },
      });
    });
  });

  it('completes empty for empty audio and passes errors on', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<AudioChunk>('--|').pipe(frames())).toBe('--|');
      const error = new Error('mic unplugged');
      expectObservable(cold('-a-#', { a: chunk(100) }, error).pipe(frames({ durationMs: 10 }))).toBe(
        '---#',
        {},
        error,
      );
    });
  });

  it('errors with a bad-audio error when the format changes mid-stream', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const stereo: AudioFormat = { ...MONO_16K, channels: 2 };
      const result = cold('-a-b-|', { a: chunk(10), b: chunk(10, 0, stereo) }).pipe(
        frames({ durationMs: 10 }),
      );
      expectObservable(result).toBe(
        '---#',
        {},
        expect.objectContaining({ kind: 'bad-audio', message: expect.stringContaining('changed format') }),
      );
    });
  });

  it('stops taking from the source on unsubscribe', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-a-a-a-a|', { a: chunk(160) });
      expectObservable(source.pipe(frames({ durationMs: 10 })), '^---!').toBe('-x-x-', {
        x: expect.objectContaining({ format: MONO_16K }),
      });
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  it('rejects durations that are not positive', () => {
    expect(() => frames({ durationMs: 0 })).toThrow(RangeError);
    expect(() => frames({ durationMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('frames (copies)', () => {
  it('passes a chunk that is exactly one frame through uncopied, and copies the rest out of its ring', async () => {
    const exact = chunk(1600);
    const split = [chunk(1000, 1600), chunk(600, 2600)];
    const out = await lastValueFrom(from([exact, ...split]).pipe(frames({ durationMs: 100 }), toArray()));
    expect(sizes(out)).toEqual([1600, 1600]);
    // The chunk's own array: emitted chunks are the pipeline's (see AudioChunk).
    expect(out[0]!.samples).toBe(exact.samples);
    expect(out[1]!.samples).not.toBe(split[0]!.samples);
    expect(out[1]!.samples.buffer).not.toBe(split[0]!.samples.buffer);
    expect(out.map((f) => f.offset)).toEqual([0, 1600]);
    expect(Array.from(out[1]!.samples.subarray(0, 3))).toEqual([1600, 1601, 1602]);
  });

  it('hands the whole frames inside a chunk on as views of it, and copies only a frame that spans two', async () => {
    // 2.5 frames, then 1.5: frames 1-2 lie in the first chunk, 3 spans both, 4 lies in the second.
    const first = chunk(4000, 0);
    const second = chunk(2400, 4000);
    const out = await lastValueFrom(from([first, second]).pipe(frames({ durationMs: 100 }), toArray()));
    expect(sizes(out)).toEqual([1600, 1600, 1600, 1600]);
    expect(out[0]!.samples.buffer).toBe(first.samples.buffer);
    expect(out[1]!.samples.buffer).toBe(first.samples.buffer);
    expect(out[1]!.samples.byteOffset).toBe(first.samples.byteOffset + 1600 * 2);
    expect(out[2]!.samples.buffer).not.toBe(first.samples.buffer);
    expect(out[2]!.samples.buffer).not.toBe(second.samples.buffer);
    expect(out[3]!.samples.buffer).toBe(second.samples.buffer);
    expect(out.map((f) => f.samples[0])).toEqual([0, 1600, 3200, 4800]);
  });
});

describe('frames (properties)', () => {
  const formats = fc.record({
    sampleRate: fc.constantFrom(8000, 16000, 22050, 44100, 48000),
    channels: fc.integer({ min: 1, max: 3 }),
    encoding: fc.constantFrom('pcm_s16le' as const, 'pcm_f32le' as const),
  });

  it('keeps every sample, in order, for any split of the input, any format and any frame duration', async () => {
    await fc.assert(
      fc.asyncProperty(
        formats,
        fc.integer({ min: 1, max: 250 }),
        fc.array(fc.integer({ min: 0, max: 700 }), { maxLength: 25 }),
        async (format, durationMs, chunkFrames) => {
          let start = 0;
          const input = chunkFrames.map((n) => {
            const c = chunk(n, start, format);
            start += n * format.channels;
            return c;
          });
          const output = await lastValueFrom(from(input).pipe(frames({ durationMs }), toArray()));
          const frameLength = samplesPerFrame(format, durationMs) * format.channels;
          const total = start;
          // Every frame but the last is exactly one frame long; the last is not empty.
          expect(
            sizes(output)
              .slice(0, -1)
              .every((n) => n === frameLength),
          ).toBe(true);
          if (output.length > 0) expect(output.at(-1)!.samples.length).toBeGreaterThan(0);
          expect(output.length).toBe(Math.ceil(total / frameLength));
          // Concatenated, they are the input; offsets count sample frames.
          const joined = output.flatMap((f) => Array.from(f.samples));
          const expected = input.flatMap((c) => Array.from(c.samples));
          expect(joined).toEqual(expected);
          let offset = 0;
          for (const frame of output) {
            expect(frame.offset).toBe(offset);
            expect(frame.format).toEqual(format);
            offset += frame.samples.length / format.channels;
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
