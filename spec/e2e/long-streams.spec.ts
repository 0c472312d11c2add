import { lastValueFrom, Observable, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { startServer } from '../../src/server/start-server.js';
import { fromAsyncIterable } from '../../src/sources/from-async-iterable.js';
import { expectedSyntheticWords } from '../helpers/audio.js';
import { heapAfterGc } from '../helpers/resources.js';

const FORMAT: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
const CHUNKS = 1_000_000;
const SAMPLES_PER_CHUNK = 16; // 1 ms each: 1,000 s of audio in all

/** A million tiny chunks of deterministic noise, 1,000 s of audio in all. */
function tinyChunks(): { pcm: Buffer; chunk: (i: number) => Uint8Array } {
  const pcm = Buffer.alloc(CHUNKS * SAMPLES_PER_CHUNK * 2);
  let state = 12345;
  for (let i = 0; i < pcm.length; i += 2) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    pcm.writeInt16LE((state >>> 16) - 32768, i);
  }
  const bytes = SAMPLES_PER_CHUNK * 2;
  return {
    pcm,
    chunk: (i) =>
      new Uint8Array(pcm.buffer.slice(pcm.byteOffset + i * bytes, pcm.byteOffset + (i + 1) * bytes)),
  };
}

describe('long streams', () => {
  it('takes 1,000,000 tiny chunks from a synchronous iterable: no stack growth, nothing lost, heap given back', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic' });
    try {
      const { pcm, chunk } = tinyChunks();
      const expected = expectedSyntheticWords(pcm).map((w) => w.word);
      function* source(): Generator<Uint8Array> {
        for (let i = 0; i < CHUNKS; i++) yield chunk(i);
      }
      const before = heapAfterGc();
      const t = transcribe({ url: server.url });
      const events = await lastValueFrom(fromAsyncIterable(source(), FORMAT).pipe(t, toArray()));
      const words = events.filter((e) => e.type === 'final').flatMap((e) => e.words);
      expect(words.map((w) => w.text)).toEqual(expected);
      expect(words.at(-1)!.endMs).toBe(1_000_000);
      expect(server.stats().audioBytes).toBe(pcm.length);
      expect(t.stats()).toMatchObject({
        pull: true,
        droppedSamples: 0,
        emittedSamples: CHUNKS * SAMPLES_PER_CHUNK,
      });
      events.length = 0;
      const after = heapAfterGc();
      expect(after - before).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('takes 1,000,000 tiny chunks pushed in one synchronous loop: bounded, every dropped sample counted', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic' });
    try {
      const { chunk } = tinyChunks();
      const pushed = new Observable<AudioChunk>((subscriber) => {
        for (let i = 0; i < CHUNKS && !subscriber.closed; i++) {
          subscriber.next({ format: FORMAT, samples: new Int16Array(chunk(i).buffer) });
        }
        subscriber.complete();
      });
      const before = heapAfterGc();
      const t = transcribe({ url: server.url, maxBufferMs: 2000 });
      await lastValueFrom(pushed.pipe(t, toArray()));
      const stats = t.stats()!;
      expect(stats.pull).toBe(false);
      expect(stats.producedSamples).toBe(CHUNKS * SAMPLES_PER_CHUNK);
      expect(stats.emittedSamples + stats.droppedSamples).toBe(stats.producedSamples);
      expect(stats.peakBufferedMs).toBeLessThanOrEqual(2000);
      // What was not dropped reached the server, to the sample.
      expect(server.stats().audioBytes).toBe(stats.emittedSamples * 2);
      expect(heapAfterGc() - before).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await server.close();
    }
  }, 120_000);
});
