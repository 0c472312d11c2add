import { firstValueFrom, lastValueFrom, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AudioChunk } from '../../src/audio/audio-format.js';
import { transcribe } from '../../src/operators/transcribe.js';
import type { SessionMetrics } from '../../src/session/session-metrics.js';
import { fromFile } from '../../src/sources/from-file.js';
import { syntheticPcm, writeSyntheticWav } from '../helpers/audio.js';
import { faultProxy } from '../helpers/fault-proxy.js';
import { syntheticSuite } from '../helpers/synthetic-suite.js';

const suite = syntheticSuite('metrics');
const dir = suite.dir;

const wav = (seconds: number, seed: number): string => writeSyntheticWav(dir, seconds, seed).path;

/** Pushes `seconds` of synthetic 16 kHz audio into `mic` at once, in 100 ms chunks of their own. */
function pushAtOnce(mic: Subject<AudioChunk>, seconds: number, seed: number): void {
  const pcm = syntheticPcm(seconds, 16000, seed);
  for (let offset = 0; offset < pcm.length; offset += 3200) {
    mic.next({
      format: { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' },
      samples: new Int16Array(pcm.buffer.slice(pcm.byteOffset + offset, pcm.byteOffset + offset + 3200)),
    });
  }
}

describe('metrics$ (exact counts in known scenarios)', () => {
  it('10 s of audio: 10,000 ms, 100 frames and 320,000 bytes sent; a final latency for each final', async () => {
    const t = transcribe({ url: suite.server.url });
    const events = await lastValueFrom(fromFile(wav(10, 1)).pipe(t, toArray()));
    const m: SessionMetrics = await firstValueFrom(t.metrics$);
    expect(m).toMatchObject({
      state: 'closed',
      audioSentMs: 10_000,
      framesSent: 100,
      audioSentBytes: 320_000,
      framesInFlight: 0,
      droppedMs: 0,
      reconnects: 0,
      replayedMs: 0,
      serverLagMs: 0,
      // Closed: the audio kept for sending and resending is given back.
      audioHeldBytes: 0,
    });
    expect(m.finalLatency.count).toBe(events.filter((e) => e.type === 'final').length);
    expect(m.finalLatency.p50Ms).toBeGreaterThanOrEqual(0);
    expect(m.heapUsedBytes).toBeGreaterThan(0);
  });

  it('a forced overflow: the dropped ms to the sample', async () => {
    // 10 s pushed before the socket can open, into a 2 s buffer: the oldest 8 s go.
    const t = transcribe({ url: suite.server.url, maxBufferMs: 2000 });
    const mic = new Subject<AudioChunk>();
    const done = lastValueFrom(mic.pipe(t, toArray()));
    pushAtOnce(mic, 10, 2);
    mic.complete();
    await done;
    const m = await firstValueFrom(t.metrics$);
    expect(m.droppedMs).toBe(8000);
    expect(m.audioSentMs).toBe(2000);
    expect(t.stats()!.droppedSamples).toBe(8000 * 16);
  });

  it('N forced reconnects give N', async () => {
    const n = 4;
    const proxy = await faultProxy(suite.server.port, (connection) =>
      connection < n ? { resetAfterBytes: 40_000 } : {},
    );
    try {
      const t = transcribe({ url: proxy.url, reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
      await lastValueFrom(fromFile(wav(5, 3)).pipe(t, toArray()));
      const m = await firstValueFrom(t.metrics$);
      expect(m.reconnects).toBe(n);
      expect(m.replayedMs).toBeGreaterThan(0);
      expect(m.audioSentMs).toBe(5000); // replays are not counted twice
    } finally {
      await proxy.close();
    }
  });

  it('audioHeldBytes: the audio a live session keeps to send and resend, not all it was given', async () => {
    // 20 s pushed at once from a source that cannot wait: flow control buffers what the window
    // does not let through; the session holds only its frames in flight and unfinalised.
    const t = transcribe({ url: suite.server.url, maxBufferMs: 30_000 });
    const mic = new Subject<AudioChunk>();
    const done = lastValueFrom(mic.pipe(t, toArray()));
    pushAtOnce(mic, 20, 5);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const live = await firstValueFrom(t.metrics$);
    expect(live.audioSentMs).toBeGreaterThan(0);
    expect(live.audioHeldBytes).toBeGreaterThan(0);
    // 20 s is 640,000 bytes; the session's share is about its 1 s window, with room to spare.
    expect(live.audioHeldBytes).toBeLessThan(5 * 32_000);
    mic.complete();
    await done;
    expect((await firstValueFrom(t.metrics$)).audioHeldBytes).toBe(0);
  });

  it('samples on its interval while someone listens, and stops when they leave', async () => {
    const t = transcribe({ url: suite.server.url, metricsIntervalMs: 20 });
    const samples: SessionMetrics[] = [];
    const listening = t.metrics$.subscribe((m) => samples.push(m));
    const run = lastValueFrom(fromFile(wav(3, 4)).pipe(t, toArray()));
    await new Promise((resolve) => setTimeout(resolve, 150));
    listening.unsubscribe();
    const seen = samples.length;
    expect(seen).toBeGreaterThanOrEqual(3);
    expect(samples.some((m) => m.eventLoopDelayMs !== undefined)).toBe(true);
    await run;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(samples.length).toBe(seen);
  });
});
