import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  concat,
  defer,
  filter,
  lastValueFrom,
  type Observable,
  repeat,
  Subject,
  switchMap,
  tap,
  toArray,
} from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { paced } from '../../src/operators/paced.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { deepgram } from '../../src/protocols/deepgram.js';
import { startServer } from '../../src/server/start-server.js';
import { fromFile } from '../../src/sources/from-file.js';
import { expectedSyntheticWords, syntheticPcm, wavHeader } from '../helpers/audio.js';
import { heapAfterGc } from '../helpers/resources.js';

const FORMAT: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
const BYTES_PER_MS = 32;
const dir = mkdtempSync(join(tmpdir(), 'flow-'));
let tenMinutes: string;
let tenMinutesPcm: Buffer;

beforeAll(() => {
  tenMinutesPcm = syntheticPcm(600, 16000, 99);
  tenMinutes = join(dir, 'ten-minutes.wav');
  writeFileSync(tenMinutes, Buffer.concat([wavHeader(tenMinutesPcm.length), tenMinutesPcm]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('flow control end to end', () => {
  it('10 minutes from fromFile to a 10x server: read minus consumed stays within the window, heap flat', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic', realtime: 10 });
    try {
      const windowMs = 500;
      let read = 0;
      let worst = 0;
      let heapPeak = 0;
      const heapStart = heapAfterGc();
      const sampler = setInterval(() => {
        worst = Math.max(worst, read - server.stats().audioBytes);
      }, 5);
      const heapSampler = setInterval(() => {
        heapPeak = Math.max(heapPeak, heapAfterGc() - heapStart);
      }, 1000);
      const t = transcribe({ url: server.url, windowMs });
      const events = await lastValueFrom(
        fromFile(tenMinutes).pipe(
          tap((chunk) => {
            read += chunk.samples.byteLength;
            worst = Math.max(worst, read - server.stats().audioBytes);
          }),
          t,
          filter((e) => e.type === 'final'),
          toArray(),
        ),
      );
      clearInterval(sampler);
      clearInterval(heapSampler);
      expect(events.flatMap((e) => e.words.map((w) => w.text))).toEqual(
        expectedSyntheticWords(tenMinutesPcm).map((w) => w.word),
      );
      expect(t.stats()).toMatchObject({ pull: true, droppedSamples: 0 });
      // The window, the read-ahead (half the window by default), and the one frame the
      // frames operator may hold between reads.
      expect(worst).toBeLessThanOrEqual((windowMs * 1.5 + 100) * BYTES_PER_MS);
      expect(heapPeak).toBeLessThan(2 * 1024 * 1024);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('a Subject pushing 20x faster than a 1x server: never more than maxBufferMs held, sent + dropped = produced', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic', realtime: 1 });
    try {
      const maxBufferMs = 1000;
      const subject = new Subject<AudioChunk>();
      const t = transcribe({ url: server.url, maxBufferMs });
      let producedSamples = 0;
      let peakBufferedMs = 0;
      const done = lastValueFrom(subject.pipe(t, toArray()));
      // 100 ms of audio every 5 ms: 20x real time, for 2 s (40 s of audio).
      const pcm = syntheticPcm(40, 16000, 3);
      let offset = 0;
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const samples = new Int16Array(
            pcm.buffer.slice(pcm.byteOffset + offset, pcm.byteOffset + offset + 3200),
          );
          offset += 3200;
          producedSamples += samples.length;
          subject.next({ format: FORMAT, samples });
          peakBufferedMs = Math.max(peakBufferedMs, t.stats()?.bufferedMs ?? 0);
          if (offset >= pcm.length) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
      });
      subject.complete();
      await done;
      const stats = t.stats()!;
      expect(stats.pull).toBe(false);
      expect(peakBufferedMs).toBeLessThanOrEqual(maxBufferMs);
      expect(stats.peakBufferedMs).toBeLessThanOrEqual(maxBufferMs);
      expect(stats.producedSamples).toBe(producedSamples);
      expect(stats.emittedSamples + stats.droppedSamples).toBe(producedSamples);
      expect(stats.droppedSamples).toBeGreaterThan(0);
      // What was sent is what the server consumed, to the sample.
      expect(server.stats().audioBytes).toBe(stats.emittedSamples * 2);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('paced() between a file and transcribe: the file is read no further ahead of it than the window (Deepgram, 4x)', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic' });
    try {
      const file = join(dir, 'thirty-seconds.wav');
      const pcm = tenMinutesPcm.subarray(0, 30 * 16000 * 2);
      writeFileSync(file, Buffer.concat([wavHeader(pcm.length), pcm]));
      let read = 0;
      let out = 0;
      let ahead = 0;
      const t = transcribe({ protocol: deepgram({ baseUrl: server.url }) });
      const events = await lastValueFrom(
        fromFile(file).pipe(
          tap((c) => {
            read += c.samples.byteLength;
            ahead = Math.max(ahead, read - out);
          }),
          paced({ factor: 4 }),
          tap((c) => {
            out += c.samples.byteLength;
          }),
          t,
          toArray(),
        ),
      );
      expect(events.filter((e) => e.type === 'final').length).toBe(30);
      // What paced() holds is on its way, not lost: never written off and read again. At most the
      // window (3 s for Deepgram) and the read-ahead (half of it) wait in paced(), and a read (64 KiB).
      expect(ahead / BYTES_PER_MS).toBeLessThanOrEqual(3000 + 1500 + 2048);
    } finally {
      await server.close();
    }
  }, 30_000);

  it('stays bounded with operators of the user between the source and transcribe', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic' });
    try {
      const file = join(dir, 'ninety-seconds.wav');
      const pcm = tenMinutesPcm.subarray(0, 90 * 16000 * 2);
      writeFileSync(file, Buffer.concat([wavHeader(pcm.length), pcm]));
      // An operator that holds audio (paced, 20x): the source waits while audio is inside it.
      let read = 0;
      let worst = 0;
      const t = transcribe({ url: server.url, windowMs: 500 });
      const events = await lastValueFrom(
        fromFile(file).pipe(
          tap((c) => {
            read += c.samples.byteLength;
          }),
          paced({ factor: 20 }),
          tap(() => {
            worst = Math.max(worst, read - server.stats().audioBytes);
          }),
          t,
          toArray(),
        ),
      );
      expect(events.filter((e) => e.type === 'final').length).toBe(90);
      expect(t.stats()?.droppedSamples).toBe(0);
      // Bounded by the window and what the stall write-off lets through, far below the 2.9 MB file.
      expect(worst).toBeLessThan(256 * 1024);

      // An operator that drops audio (here every other chunk): no deadlock, and only what passed is sent.
      const short = join(dir, 'twenty-seconds.wav');
      const pcm20 = tenMinutesPcm.subarray(0, 20 * 16000 * 2);
      writeFileSync(short, Buffer.concat([wavHeader(pcm20.length), pcm20]));
      let passed = 0;
      let index = 0;
      const t2 = transcribe({ url: server.url });
      await lastValueFrom(
        fromFile(short, { chunkBytes: 3200 }).pipe(
          filter(() => index++ % 2 === 0),
          tap((c) => {
            passed += c.samples.length;
          }),
          t2,
          toArray(),
        ),
      );
      expect(t2.stats()?.emittedSamples).toBe(passed);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('reaches every source of a composition: concat, a switchMap into a new file, repeat', async () => {
    // 20x real time: 8 s files take 0.4 s each to consume, so a source that read freely would be far ahead.
    const server = await startServer({ port: 0, engine: 'synthetic', realtime: 20 });
    try {
      const files = [0, 1].map((i) => {
        const path = join(dir, `eight-seconds-${i}.wav`);
        const pcm = tenMinutesPcm.subarray(i * 8 * 32_000, (i + 1) * 8 * 32_000);
        writeFileSync(path, Buffer.concat([wavHeader(pcm.length), pcm]));
        return path;
      });
      const compositions: Array<[string, () => Observable<AudioChunk>, number]> = [
        ['concat', () => concat(fromFile(files[0]!), fromFile(files[1]!)), 16],
        [
          'switchMap from a Subject of names, each file subscribed late',
          () =>
            defer(() => {
              const names = new Subject<string>();
              setTimeout(() => names.next(files[0]!), 10);
              return names.pipe(
                switchMap((name) =>
                  fromFile(name).pipe(
                    tap({ complete: () => (name === files[0] ? names.next(files[1]!) : names.complete()) }),
                  ),
                ),
              );
            }),
          16,
        ],
        ['repeat', () => fromFile(files[0]!).pipe(repeat(2)), 16],
      ];
      for (const [name, make, seconds] of compositions) {
        const before = server.stats().audioBytes;
        let read = 0;
        let worst = 0;
        const t = transcribe({ url: server.url, windowMs: 500 });
        await lastValueFrom(
          make().pipe(
            tap((chunk) => {
              read += chunk.samples.byteLength;
              worst = Math.max(worst, read - (server.stats().audioBytes - before));
            }),
            t,
            toArray(),
          ),
        );
        expect(t.stats()?.emittedMs, name).toBeCloseTo(seconds * 1000, -1);
        expect(t.stats()?.droppedSamples, name).toBe(0);
        // Window (500 ms) + read-ahead (250 ms) + a read's overshoot, for every file, not one file's 256 KB.
        expect(worst, name).toBeLessThan(1500 * BYTES_PER_MS);
      }
    } finally {
      await server.close();
    }
  }, 60_000);
});
