import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { audioFormatOfWav, WavStreamReader } from '../../src/audio/wav-stream.js';
import { isTranscriptionError } from '../../src/errors/transcription-error.js';
import { wavHeader } from '../helpers/audio.js';

/** Deterministic bytes that are whole samples of any kind (random bit patterns). */
function pcmBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/**
 * A plain Uint8Array copy. Node Buffers are kept out of most tests: PcmByteDecoder
 * mishandles them (see the known-bug test below), and this file is about WAV parsing.
 */
function plain(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes);
}

/** A trailing chunk as tools append after the data (odd size, so padded). */
function listChunk(bodyBytes: number): Buffer {
  const chunk = Buffer.alloc(8 + bodyBytes + (bodyBytes % 2), 0x55);
  chunk.write('LIST', 0, 'ascii');
  chunk.writeUInt32LE(bodyBytes, 4);
  return chunk;
}

/** Pushes `bytes` cut at `cuts`, then finishes; returns the chunks' samples' bytes, joined. */
function readAll(
  reader: WavStreamReader,
  bytes: Uint8Array,
  cuts: number[] = [],
): { bytes: Buffer; chunks: AudioChunk[] } {
  const chunks: AudioChunk[] = [];
  let offset = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length]) {
    const chunk = reader.push(bytes.subarray(offset, cut));
    if (chunk !== undefined) chunks.push(chunk);
    offset = cut;
  }
  expect(reader.finish()).toBeUndefined();
  const joined = Buffer.concat(
    chunks.map((c) => Buffer.from(c.samples.buffer, c.samples.byteOffset, c.samples.byteLength)),
  );
  return { bytes: joined, chunks };
}

/** Runs `action`, which must throw a bad-audio TranscriptionError whose message holds every fragment. */
function expectBadAudio(action: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(isTranscriptionError(caught), `threw ${String(caught)}`).toBe(true);
  if (!isTranscriptionError(caught)) return;
  expect(caught.kind).toBe('bad-audio');
  expect(caught.retryable).toBe(false);
  for (const fragment of fragments) expect(caught.message).toContain(fragment);
}

const CASES: Array<{ rate: number; channels: number; bits: number; code: number; format: AudioFormat }> = [
  {
    rate: 8000,
    channels: 1,
    bits: 16,
    code: 1,
    format: { sampleRate: 8000, channels: 1, encoding: 'pcm_s16le' },
  },
  {
    rate: 44100,
    channels: 2,
    bits: 16,
    code: 1,
    format: { sampleRate: 44100, channels: 2, encoding: 'pcm_s16le' },
  },
  {
    rate: 48000,
    channels: 1,
    bits: 16,
    code: 1,
    format: { sampleRate: 48000, channels: 1, encoding: 'pcm_s16le' },
  },
  {
    rate: 48000,
    channels: 2,
    bits: 16,
    code: 1,
    format: { sampleRate: 48000, channels: 2, encoding: 'pcm_s16le' },
  },
  {
    rate: 16000,
    channels: 1,
    bits: 32,
    code: 3,
    format: { sampleRate: 16000, channels: 1, encoding: 'pcm_f32le' },
  },
  {
    rate: 44100,
    channels: 2,
    bits: 32,
    code: 3,
    format: { sampleRate: 44100, channels: 2, encoding: 'pcm_f32le' },
  },
];

describe('WavStreamReader', () => {
  for (const { rate, channels, bits, code, format } of CASES) {
    it(`reads ${rate} Hz ${channels}-channel ${bits}-bit (format ${code}) WAV in one push`, () => {
      const data = pcmBytes(((rate / 100) * channels * bits) / 8, rate + channels);
      const reader = new WavStreamReader('one.wav');
      expect(reader.format).toBeUndefined();
      const chunk = reader.push(Buffer.concat([wavHeader(data.length, rate, channels, bits, code), data]));
      expect(reader.format).toEqual(format);
      expect(chunk?.format).toEqual(format);
      expect(chunk?.samples).toBeInstanceOf(bits === 16 ? Int16Array : Float32Array);
      expect(chunk?.samples.length).toBe(data.length / (bits / 8));
      expect(
        Buffer.from(chunk!.samples.buffer, chunk!.samples.byteOffset, chunk!.samples.byteLength),
      ).toEqual(data);
      expect(reader.finish()).toBeUndefined();
    });
  }

  it('gives the same samples for any split of header and data as for one push', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CASES),
        fc.integer({ min: 0, max: 60 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.nat(),
        (wav, frames, cuts, seed) => {
          const frameBytes = (wav.channels * wav.bits) / 8;
          const data = pcmBytes(frames * frameBytes, seed);
          const file = plain(
            Buffer.concat([wavHeader(data.length, wav.rate, wav.channels, wav.bits, wav.code), data]),
          );
          const whole = readAll(new WavStreamReader('whole.wav'), file);
          const reader = new WavStreamReader('split.wav');
          const split = readAll(reader, file, cuts);
          expect(split.bytes).toEqual(whole.bytes);
          expect(split.bytes).toEqual(data);
          for (const chunk of split.chunks) {
            expect(chunk.format).toEqual(wav.format);
            expect(chunk.samples.length % wav.channels).toBe(0);
          }
          expect(reader.pendingBytes).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('stops at the declared end of the data chunk: a trailing LIST chunk is not read as audio', () => {
    fc.assert(
      fc.property(
        // At least one frame: a declared size of 0 means "unknown, read to the end".
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 41 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (frames, listBytes, cuts) => {
          const data = pcmBytes(frames * 4, frames);
          const file = plain(Buffer.concat([wavHeader(data.length, 44100, 2), data, listChunk(listBytes)]));
          const reader = new WavStreamReader('tagged.wav');
          expect(readAll(reader, file, cuts).bytes).toEqual(data);
          expect(reader.pendingBytes).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('returns nothing for bytes pushed after the data chunk ends', () => {
    const data = pcmBytes(8, 1);
    const reader = new WavStreamReader('tagged.wav');
    expect(reader.push(plain(Buffer.concat([wavHeader(8), data])))?.samples).toHaveLength(4);
    expect(reader.push(listChunk(100))).toBeUndefined();
    expect(reader.finish()).toBeUndefined();
  });

  it('reads to the end when the data size is unknown (0 or 0xFFFFFFFF, as streaming writers put)', () => {
    const data = pcmBytes(64, 2);
    for (const size of [0, 0xffffffff]) {
      const header = wavHeader(0);
      header.writeUInt32LE(size, 40);
      const file = plain(Buffer.concat([header, data]));
      expect(readAll(new WavStreamReader('live.wav'), file, [50, 51]).bytes).toEqual(data);
    }
  });

  it('returns nothing until the header is complete, then knows the format', () => {
    const file = plain(Buffer.concat([wavHeader(4, 8000, 2), pcmBytes(4, 3)]));
    const reader = new WavStreamReader('slow.wav');
    for (let i = 0; i < 43; i++) {
      expect(reader.push(file.subarray(i, i + 1))).toBeUndefined();
      expect(reader.format).toBeUndefined();
    }
    expect(reader.push(file.subarray(43, 47))).toBeUndefined();
    expect(reader.format).toEqual({ sampleRate: 8000, channels: 2, encoding: 'pcm_s16le' });
    expect(reader.pendingBytes).toBe(3);
    expect(Array.from(reader.push(file.subarray(47))!.samples)).toHaveLength(2);
  });

  // Known bug (src/audio/pcm-bytes.ts): decodePcmBytes copies with `bytes.slice(...)`, which
  // for a Node Buffer is a view, so its `.buffer` is the whole (often pooled) ArrayBuffer.
  // Pushing data as Buffers after the header gives samples of unrelated memory. Flip to it()
  // when fixed.
  it('gives the same samples when the data arrives as Node Buffers', () => {
    const data = pcmBytes(8, 4);
    const reader = new WavStreamReader('buffers.wav');
    expect(reader.push(wavHeader(8, 8000))).toBeUndefined();
    const chunk = reader.push(Buffer.from(data));
    expect(chunk?.samples).toHaveLength(4);
    expect(Buffer.from(chunk!.samples.buffer, chunk!.samples.byteOffset, chunk!.samples.byteLength)).toEqual(
      data,
    );
  });

  it('rejects 8-bit PCM, naming the file and what it holds', () => {
    const reader = new WavStreamReader('old.wav');
    expectBadAudio(
      () => reader.push(Buffer.concat([wavHeader(8, 8000, 1, 8), pcmBytes(8, 1)])),
      'old.wav',
      '8-bit',
    );
  });

  it('rejects 24-bit PCM and 64-bit float, naming the depth', () => {
    expectBadAudio(
      () => new WavStreamReader('deep.wav').push(wavHeader(0, 48000, 2, 24)),
      'deep.wav',
      '24-bit',
    );
    expectBadAudio(
      () => new WavStreamReader('double.wav').push(wavHeader(0, 48000, 1, 64, 3)),
      'double.wav',
      '64-bit IEEE float',
    );
  });

  it('rejects compressed WAV, naming the codec', () => {
    expectBadAudio(
      () => new WavStreamReader('adpcm.wav').push(wavHeader(0, 22050, 1, 4, 2)),
      'adpcm.wav',
      'Microsoft ADPCM',
      'compressed',
    );
    expectBadAudio(
      () => new WavStreamReader('mp3.wav').push(wavHeader(0, 44100, 2, 0, 85)),
      'mp3.wav',
      'MPEG Layer 3',
      'compressed',
    );
  });

  it('rejects bytes that are not a WAV file, as soon as it can tell', () => {
    expectBadAudio(
      () => new WavStreamReader('song.mp3').push(Buffer.from('ID3')),
      'song.mp3',
      'not a WAV file',
    );
    const avi = wavHeader(0);
    avi.write('AVI ', 8, 'ascii');
    expectBadAudio(() => new WavStreamReader('clip.avi').push(avi), 'clip.avi', 'not a WAV file', 'AVI');
  });

  it('says the input is empty when finish() comes before any bytes', () => {
    expectBadAudio(() => new WavStreamReader('nothing.wav').finish(), 'nothing.wav', 'is empty');
    const reader = new WavStreamReader('zero.wav');
    expect(reader.push(new Uint8Array(0))).toBeUndefined();
    expectBadAudio(() => reader.finish(), 'zero.wav', 'is empty');
  });

  it('says the input ends inside its header when it stops there', () => {
    for (const length of [1, 4, 12, 20, 43]) {
      const reader = new WavStreamReader('cut.wav');
      expect(reader.push(wavHeader(100).subarray(0, length))).toBeUndefined();
      expectBadAudio(() => reader.finish(), 'cut.wav', 'ends inside its WAV header');
    }
  });
});

describe('audioFormatOfWav', () => {
  it('maps 16-bit PCM and 32-bit float to their sample encodings', () => {
    expect(
      audioFormatOfWav(
        { formatCode: 1, channels: 2, sampleRate: 44100, bitsPerSample: 16, blockAlign: 4 },
        'a',
      ),
    ).toEqual({ sampleRate: 44100, channels: 2, encoding: 'pcm_s16le' });
    expect(
      audioFormatOfWav(
        { formatCode: 3, channels: 1, sampleRate: 8000, bitsPerSample: 32, blockAlign: 4 },
        'a',
      ),
    ).toEqual({ sampleRate: 8000, channels: 1, encoding: 'pcm_f32le' });
  });

  it('rejects a format with no channels and 32-bit integer PCM', () => {
    expectBadAudio(
      () =>
        audioFormatOfWav(
          { formatCode: 1, channels: 0, sampleRate: 8000, bitsPerSample: 16, blockAlign: 0 },
          'x.wav',
        ),
      'x.wav',
      'no channels',
    );
    expectBadAudio(
      () =>
        audioFormatOfWav(
          { formatCode: 1, channels: 1, sampleRate: 8000, bitsPerSample: 32, blockAlign: 4 },
          'y.wav',
        ),
      'y.wav',
      '32-bit PCM',
    );
  });
});
