import { lastValueFrom, Observable, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { startServer } from '../../src/server/start-server.js';
import { expectedSyntheticWords } from '../helpers/audio.js';

const FORMAT: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
const CHUNKS = 1_000_000;
const SAMPLES_PER_CHUNK = 16; // 1 ms each: 1,000 s of audio in all

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (vitest.config.ts sets it)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A synchronous source: one loop pushing a million tiny chunks, as a careless producer would. */
function tinySynchronousChunks(): { audio: Observable<AudioChunk>; pcm: Buffer } {
  const pcm = Buffer.alloc(CHUNKS * SAMPLES_PER_CHUNK * 2);
  let state = 12345;
  for (let i = 0; i < pcm.length; i += 2) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    pcm.writeInt16LE((state >>> 16) - 32768, i);
  }
  const audio = new Observable<AudioChunk>((subscriber) => {
    for (let i = 0; i < CHUNKS && !subscriber.closed; i++) {
      const offset = i * SAMPLES_PER_CHUNK * 2;
      const samples = new Int16Array(
        pcm.buffer.slice(pcm.byteOffset + offset, pcm.byteOffset + offset + SAMPLES_PER_CHUNK * 2),
      );
      subscriber.next({ format: FORMAT, samples });
    }
    subscriber.complete();
  });
  return { audio, pcm };
}

describe('long streams', () => {
  it('takes 1,000,000 tiny synchronous chunks without stack growth, loses nothing, and gives its heap back', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic' });
    try {
      const { audio, pcm } = tinySynchronousChunks();
      const expected = expectedSyntheticWords(pcm).map((w) => w.word);
      const before = heapAfterGc();
      const events = await lastValueFrom(audio.pipe(transcribe({ url: server.url }), toArray()));
      const words = events.filter((e) => e.type === 'final').flatMap((e) => e.words);
      expect(words.map((w) => w.text)).toEqual(expected);
      expect(words.at(-1)!.endMs).toBe(1_000_000);
      expect(server.stats().audioBytes).toBe(pcm.length);
      events.length = 0;
      const after = heapAfterGc();
      // Back to where it started: what the run held (frames, queues) is released.
      expect(after - before).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await server.close();
    }
  }, 120_000);
});
