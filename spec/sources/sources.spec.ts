import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { lastValueFrom, type Observable, tap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { isTranscriptionError } from '../../src/errors/transcription-error.js';
import { type SourceFormat, wavOrRaw } from '../../src/sources/byte-source.js';
import { fromAsyncIterable } from '../../src/sources/from-async-iterable.js';
import { fromFile } from '../../src/sources/from-file.js';
import { fromReadable } from '../../src/sources/from-readable.js';
import { fromReadableStream } from '../../src/sources/from-readable-stream.js';
import { wavHeader } from '../helpers/audio.js';
import { eventually } from '../helpers/resources.js';

const RAW: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
const WAV_FORMAT: AudioFormat = { sampleRate: 44100, channels: 2, encoding: 'pcm_s16le' };
const FLOAT_FORMAT: AudioFormat = { sampleRate: 48000, channels: 1, encoding: 'pcm_f32le' };

/** Deterministic bytes (random bit patterns: every sample value, and NaNs as floats). */
function pcmBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

function joinBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Plain Uint8Arrays, not Node Buffers: see the known-bug tests below. */
function wavFile(data: Uint8Array, format: AudioFormat): Uint8Array {
  const bits = format.encoding === 'pcm_s16le' ? 16 : 32;
  const code = format.encoding === 'pcm_s16le' ? 1 : 3;
  return joinBytes([
    new Uint8Array(wavHeader(data.length, format.sampleRate, format.channels, bits, code)),
    data,
  ]);
}

const RAW_DATA = pcmBytes(20_000, 1); // 10000 samples of 16 kHz mono
const WAV_DATA = pcmBytes(4 * 3001, 2); // 3001 frames of 44.1 kHz stereo
const FLOAT_DATA = pcmBytes(4 * 2000, 3); // 2000 samples of 48 kHz mono float
const WAV_BYTES = wavFile(WAV_DATA, WAV_FORMAT);
const FLOAT_BYTES = wavFile(FLOAT_DATA, FLOAT_FORMAT);

/** Cuts bytes into pieces of the given sizes (cycling), the last piece taking what is left. */
function pieces(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}

async function chunksOf(source: Observable<AudioChunk>): Promise<AudioChunk[]> {
  return lastValueFrom(source.pipe(toArray()));
}

/** The bytes of all samples of `chunks`, joined; checks every chunk is in `format`. */
function sampleBytes(chunks: AudioChunk[], format: AudioFormat): Uint8Array {
  for (const chunk of chunks) {
    expect(chunk.format).toEqual(format);
    expect(chunk.samples).toBeInstanceOf(format.encoding === 'pcm_s16le' ? Int16Array : Float32Array);
    expect(chunk.samples.length % format.channels).toBe(0);
  }
  return joinBytes(
    chunks.map((c) => new Uint8Array(c.samples.buffer, c.samples.byteOffset, c.samples.byteLength)),
  );
}

/** Byte-for-byte equality, cheap to report when it fails (no diff of thousands of bytes). */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length, 'byte count').toBe(expected.length);
  expect(
    actual.findIndex((byte, i) => byte !== expected[i]),
    'index of the first differing byte',
  ).toBe(-1);
}

async function expectBadAudio(promise: Promise<unknown>, ...fragments: string[]): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTranscriptionError(error), `rejected with ${String(error)}`).toBe(true);
  if (!isTranscriptionError(error)) return;
  expect(error.kind).toBe('bad-audio');
  for (const fragment of fragments) expect(error.message).toContain(fragment);
}

function tick(ms = 20): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Subscribes, and unsubscribes inside the first `next`; resolves with how many chunks arrived in all. */
async function takeOneThenUnsubscribe(source: Observable<AudioChunk>): Promise<{ seen: () => number }> {
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    const subscription = source.subscribe({
      next: () => {
        count++;
        queueMicrotask(() => {
          subscription.unsubscribe();
          resolve();
        });
      },
      error: reject,
      complete: () => reject(new Error('completed before it was cut off')),
    });
  });
  return { seen: () => count };
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Descriptors of this process open on `path`: the exact check, where the count above is the coarse one. */
function fdsOn(path: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count++;
    } catch {
      // closed between the listing and the readlink
    }
  }
  return count;
}

/** The sources that take bytes from a stream-like thing the test builds from pieces. */
const STREAM_SOURCES: Record<string, (parts: Uint8Array[], format: SourceFormat) => Observable<AudioChunk>> =
  {
    fromReadable: (parts, format) => fromReadable(Readable.from(parts), format),
    fromReadableStream: (parts, format) => {
      let i = 0;
      return fromReadableStream(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            const part = parts[i++];
            if (part === undefined) controller.close();
            else controller.enqueue(part);
          },
        }),
        format,
      );
    },
    fromAsyncIterable: (parts, format) =>
      fromAsyncIterable(
        (async function* () {
          for (const part of parts) yield part;
        })(),
        format,
      ),
  };

describe('fromFile', () => {
  let dir: string;
  let rawPath: string;
  let wavPath: string;
  let floatPath: string;
  let textPath: string;

  beforeAll(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'rxjs-transcribe-sources-')));
    rawPath = join(dir, 'speech.raw');
    wavPath = join(dir, 'speech.wav');
    floatPath = join(dir, 'float.wav');
    textPath = join(dir, 'notes.txt');
    writeFileSync(rawPath, RAW_DATA);
    writeFileSync(wavPath, WAV_BYTES);
    writeFileSync(floatPath, FLOAT_BYTES);
    writeFileSync(textPath, 'these are not the bytes of a WAV file');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens nothing until subscribed; a missing file is a bad-audio error naming its path', async () => {
    const missing = join(dir, 'missing.wav');
    const before = openFds();
    expect(() => fromFile(missing)).not.toThrow();
    const existing = fromFile(wavPath);
    await tick();
    expect(fdsOn(wavPath)).toBe(0);
    expect(openFds()).toBe(before);
    // Subscribed, it opens the file: open while it hands out the first chunk.
    let subscription: { unsubscribe(): void } | undefined;
    const openAtFirstChunk = await new Promise<number>((resolve) => {
      subscription = existing.subscribe(() => resolve(fdsOn(wavPath)));
    });
    subscription?.unsubscribe();
    expect(openAtFirstChunk).toBe(1);
    await eventually(() => expect(fdsOn(wavPath)).toBe(0), 2000);
    await expectBadAudio(chunksOf(fromFile(missing)), missing);
  });

  it('yields exactly the samples of a raw PCM file', async () => {
    expectBytes(sampleBytes(await chunksOf(fromFile(rawPath, { format: RAW })), RAW), RAW_DATA);
  });

  it('yields exactly the samples of 16-bit and float WAV files, in their formats', async () => {
    expectBytes(sampleBytes(await chunksOf(fromFile(wavPath)), WAV_FORMAT), WAV_DATA);
    expectBytes(
      sampleBytes(await chunksOf(fromFile(floatPath, { chunkBytes: 1000 })), FLOAT_FORMAT),
      FLOAT_DATA,
    );
  });

  it('yields every sample when reads split samples (chunkBytes: 3)', async () => {
    const raw = await chunksOf(fromFile(rawPath, { format: RAW, chunkBytes: 3 }));
    expect(raw.length).toBeGreaterThan(1000);
    expectBytes(sampleBytes(raw, RAW), RAW_DATA);
    expectBytes(sampleBytes(await chunksOf(fromFile(wavPath, { chunkBytes: 3 })), WAV_FORMAT), WAV_DATA);
  });

  it('closes the file at the end', async () => {
    const before = openFds();
    await chunksOf(fromFile(rawPath, { format: RAW, chunkBytes: 4096 }));
    expect(fdsOn(rawPath)).toBe(0);
    await eventually(() => expect(openFds()).toBeLessThanOrEqual(before), 2000);
  });

  it('stops reading and closes the file when unsubscribed mid-stream', async () => {
    const before = openFds();
    let during = 0;
    let duringOnPath = 0;
    const source = fromFile(rawPath, { format: RAW, chunkBytes: 1024 }).pipe(
      tap(() => {
        during = openFds();
        duringOnPath = fdsOn(rawPath);
      }),
    );
    const run = await takeOneThenUnsubscribe(source);
    // The measurements see the open file: the checks below are not vacuous.
    expect(duringOnPath).toBe(1);
    expect(during).toBeGreaterThan(before);
    await eventually(() => {
      expect(fdsOn(rawPath)).toBe(0);
      expect(openFds()).toBeLessThanOrEqual(before);
    }, 2000);
    await tick(50);
    expect(run.seen()).toBe(1);
  });

  it('rejects a file that is not WAV when no format is given, naming it', async () => {
    await expectBadAudio(chunksOf(fromFile(textPath)), textPath, 'not a WAV file');
  });

  it('rejects a raw format it cannot use, naming the file', async () => {
    const bad = { sampleRate: 16000, channels: 0, encoding: 'pcm_s16le' } as const;
    await expectBadAudio(chunksOf(fromFile(rawPath, { format: bad })), rawPath, 'channels');
  });

  it('throws a RangeError for a chunk size that is not a positive whole number', () => {
    for (const chunkBytes of [0, -1, 1.5])
      expect(() => fromFile(rawPath, { chunkBytes })).toThrow(RangeError);
  });
});

describe('sources over streams, generators and iterables', () => {
  for (const [name, make] of Object.entries(STREAM_SOURCES)) {
    describe(name, () => {
      it('yields exactly the samples of raw PCM, split anywhere', async () => {
        const parts = pieces(RAW_DATA, [1, 3, 1000, 0, 5, 4096]);
        expectBytes(sampleBytes(await chunksOf(make(parts, RAW)), RAW), RAW_DATA);
      });

      it('yields exactly the samples of a WAV stream, in its format', async () => {
        const parts = pieces(WAV_BYTES, [7, 30, 1, 999]);
        expectBytes(sampleBytes(await chunksOf(make(parts, 'wav')), WAV_FORMAT), WAV_DATA);
        expectBytes(sampleBytes(await chunksOf(make([FLOAT_BYTES], 'wav')), FLOAT_FORMAT), FLOAT_DATA);
      });

      it('with wavOrRaw, reads bytes starting with RIFF as WAV, even when "RIFF" arrives split', async () => {
        const parts = pieces(WAV_BYTES, [1, 2, 1, 500]);
        expectBytes(sampleBytes(await chunksOf(make(parts, wavOrRaw(RAW))), WAV_FORMAT), WAV_DATA);
      });

      it('with wavOrRaw, reads other bytes as raw PCM of the given format', async () => {
        const parts = pieces(RAW_DATA, [1, 2, 1, 777]);
        expectBytes(sampleBytes(await chunksOf(make(parts, wavOrRaw(RAW))), RAW), RAW_DATA);
        // Almost RIFF is not RIFF.
        const rifx = joinBytes([new TextEncoder().encode('RIFX'), RAW_DATA.subarray(4)]);
        expectBytes(sampleBytes(await chunksOf(make([rifx], wavOrRaw(RAW))), RAW), rifx);
        // Under four bytes in all: too short to be WAV, read as raw.
        const tiny = new Uint8Array([0x52, 0x49]);
        expectBytes(sampleBytes(await chunksOf(make([tiny], wavOrRaw(RAW))), RAW), tiny);
      });

      it('fails a WAV stream that is not WAV with a bad-audio error', async () => {
        await expectBadAudio(chunksOf(make([RAW_DATA], 'wav')), 'not a WAV file');
      });
    });
  }

  it('fromAsyncIterable gives the same samples for any split, of raw PCM and of WAV', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.nat({ max: 4000 }), { maxLength: 12 }),
        async (wav, rawCuts) => {
          const bytes = wav ? WAV_BYTES : RAW_DATA;
          const cuts = rawCuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
          const parts: Uint8Array[] = [];
          let offset = 0;
          for (const cut of [...cuts, bytes.length]) {
            parts.push(bytes.subarray(offset, cut));
            offset = cut;
          }
          const chunks = await chunksOf(fromAsyncIterable(parts, wav ? 'wav' : wavOrRaw(RAW)));
          expectBytes(sampleBytes(chunks, wav ? WAV_FORMAT : RAW), wav ? WAV_DATA : RAW_DATA);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('fromReadable', () => {
  function endless(): { stream: Readable; reads: () => number } {
    let reads = 0;
    const stream = new Readable({
      read() {
        reads++;
        this.push(new Uint8Array(1024));
      },
    });
    return { stream, reads: () => reads };
  }

  it('reads nothing until subscribed', async () => {
    const { stream, reads } = endless();
    const source = fromReadable(stream, RAW);
    await tick();
    expect(reads()).toBe(0);
    const run = await takeOneThenUnsubscribe(source);
    expect(run.seen()).toBe(1);
    expect(reads()).toBeGreaterThan(0);
  });

  it('destroys the stream and stops reading when unsubscribed mid-stream', async () => {
    const { stream, reads } = endless();
    const run = await takeOneThenUnsubscribe(fromReadable(stream, RAW));
    await eventually(() => expect(stream.destroyed).toBe(true), 2000);
    const readsThen = reads();
    await tick(50);
    expect(reads()).toBe(readsThen);
    expect(run.seen()).toBe(1);
  });

  it('destroys the stream at the end', async () => {
    const stream = Readable.from([RAW_DATA]);
    await chunksOf(fromReadable(stream, RAW));
    expect(stream.destroyed).toBe(true);
  });

  it('fails a stream of strings with a bad-audio error that says to open it without an encoding', async () => {
    await expectBadAudio(chunksOf(fromReadable(Readable.from(['RIFF....']), 'wav')), 'gave a string');
  });

  // Known bug (src/audio/pcm-bytes.ts): decodePcmBytes copies with `bytes.slice(...)`, a view for
  // Node Buffers, so samples come from the whole backing ArrayBuffer (the 8 KiB pool for small
  // Buffers). Node streams (sockets, stdin, child processes) hand out such Buffers.
  // Flip to it() when fixed.
  it('yields exactly the samples of a stream of Node Buffers', async () => {
    const parts = pieces(RAW_DATA, [100, 3, 1000]).map((part) => Buffer.from(part));
    expectBytes(sampleBytes(await chunksOf(fromReadable(Readable.from(parts), RAW)), RAW), RAW_DATA);
  });

  // Known bug (src/sources/byte-source.ts, fromByteReader): unsubscribing before `await open()`
  // resolves calls release() while `reader` is still undefined; `closing` is then settled, and
  // when open() resolves run() sees `closed` and returns without closing the reader. The stream
  // is never destroyed (for fromFile: the file handle stays open). Flip to it() when fixed.
  it('destroys the stream when unsubscribed at once (before the first read)', async () => {
    const { stream } = endless();
    fromReadable(stream, RAW).subscribe().unsubscribe();
    await eventually(() => expect(stream.destroyed).toBe(true), 300);
  });
});

describe('fromReadableStream', () => {
  function endless(): { stream: ReadableStream<Uint8Array>; pulls: () => number; cancels: () => number } {
    let pulls = 0;
    let cancels = 0;
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++;
          controller.enqueue(new Uint8Array(1024));
        },
        cancel() {
          cancels++;
        },
      },
      { highWaterMark: 0 },
    );
    return { stream, pulls: () => pulls, cancels: () => cancels };
  }

  it('reads nothing and takes no lock until subscribed', async () => {
    const { stream, pulls } = endless();
    const source = fromReadableStream(stream, RAW);
    await tick();
    expect(pulls()).toBe(0);
    expect(stream.locked).toBe(false);
    await takeOneThenUnsubscribe(source);
    expect(pulls()).toBeGreaterThan(0);
  });

  it('cancels the stream, once, and releases its lock when unsubscribed mid-stream', async () => {
    const { stream, pulls, cancels } = endless();
    const run = await takeOneThenUnsubscribe(fromReadableStream(stream, RAW));
    await eventually(() => expect(cancels()).toBe(1), 2000);
    await eventually(() => expect(stream.locked).toBe(false), 2000);
    const pullsThen = pulls();
    await tick(50);
    expect(pulls()).toBe(pullsThen);
    expect(cancels()).toBe(1);
    expect(run.seen()).toBe(1);
  });

  it('releases its lock at the end, without cancelling', async () => {
    let cancels = 0;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(RAW_DATA);
        controller.close();
      },
      cancel() {
        cancels++;
      },
    });
    await chunksOf(fromReadableStream(stream, RAW));
    expect(stream.locked).toBe(false);
    expect(cancels).toBe(0);
  });

  it('accepts ArrayBuffers as well as Uint8Arrays', async () => {
    const stream = new ReadableStream<Uint8Array | ArrayBuffer>({
      start(controller) {
        controller.enqueue(RAW_DATA.slice(0, 101).buffer);
        controller.enqueue(RAW_DATA.slice(101));
        controller.close();
      },
    });
    expectBytes(sampleBytes(await chunksOf(fromReadableStream(stream, RAW)), RAW), RAW_DATA);
  });

  // Known bug (fromByteReader, see fromReadable above): getReader() runs at subscription, but an
  // unsubscribe before `await open()` resolves never cancels the stream or releases its lock.
  // Flip to it() when fixed.
  it('cancels the stream and releases its lock when unsubscribed at once', async () => {
    const { stream, cancels } = endless();
    fromReadableStream(stream, RAW).subscribe().unsubscribe();
    await eventually(() => {
      expect(stream.locked).toBe(false);
      expect(cancels()).toBe(1);
    }, 300);
  });
});

describe('fromAsyncIterable', () => {
  function endless(): { iterable: AsyncGenerator<Uint8Array>; made: () => number; finished: () => boolean } {
    let made = 0;
    let finished = false;
    const iterable = (async function* () {
      try {
        for (;;) {
          made++;
          yield new Uint8Array(1024);
        }
      } finally {
        finished = true;
      }
    })();
    return { iterable, made: () => made, finished: () => finished };
  }

  it('iterates nothing until subscribed', async () => {
    const { iterable, made } = endless();
    const source = fromAsyncIterable(iterable, RAW);
    await tick();
    expect(made()).toBe(0);
    await takeOneThenUnsubscribe(source);
    expect(made()).toBeGreaterThan(0);
  });

  it("runs the generator's finally block and stops iterating when unsubscribed mid-stream", async () => {
    const { iterable, made, finished } = endless();
    const run = await takeOneThenUnsubscribe(fromAsyncIterable(iterable, RAW));
    await eventually(() => expect(finished()).toBe(true), 2000);
    const madeThen = made();
    await tick(50);
    expect(made()).toBe(madeThen);
    expect(run.seen()).toBe(1);
  });

  it('takes sync iterables of ArrayBuffers and typed-array views', async () => {
    const halves = [RAW_DATA.slice(0, 4000), RAW_DATA.slice(4000)];
    const items = [halves[0]!.buffer, new DataView(halves[1]!.buffer)];
    expectBytes(sampleBytes(await chunksOf(fromAsyncIterable(items, RAW)), RAW), RAW_DATA);
  });

  it('fails with a bad-audio error when the iterable throws, saying what broke', async () => {
    const failing = (async function* () {
      yield RAW_DATA.subarray(0, 100);
      throw new Error('microphone unplugged');
    })();
    await expectBadAudio(chunksOf(fromAsyncIterable(failing, RAW)), 'microphone unplugged');
  });
});
