import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { transcribe } from '../../src/operators/transcribe.js';
import { deepgram } from '../../src/protocols/deepgram.js';
import { startServer } from '../../src/server/start-server.js';
import type { SessionStatus } from '../../src/session/session-status.js';
import { fromFile } from '../../src/sources/from-file.js';
import { expectedTimedWords as expected, timedWords, writeSyntheticWav } from '../helpers/audio.js';
import { faultProxy } from '../helpers/fault-proxy.js';
import { syntheticSuite } from '../helpers/synthetic-suite.js';

// The same guarantees as spec/e2e/resilience.spec.ts, for Deepgram's protocol through the
// reference server's emulator: times restart at 0 on every Deepgram connection, and the
// session keeps them on one timeline, exact with the synthetic engine.
// Faults come every 5 s of audio: more than Deepgram's window (3 s of audio sent and not yet
// reached by a result), without which no connection could make progress.
const suite = syntheticSuite('deepgram-resilience');
const BYTES_PER_SECOND = 32000;
const FAST_RETRY = { initialDelayMs: 5, maxDelayMs: 50, maxRetries: 10 } as const;

describe('Deepgram: reconnects that lose no words (synthetic engine, through the emulator)', () => {
  it('3 minutes with the connection reset every 5 s of audio (more than the 3 s window): word for word the fault-free transcript, same times', async () => {
    const { path, pcm } = writeSyntheticWav(suite.dir, 180, 31);
    const proxy = await faultProxy(suite.server.port, () => ({ resetAfterBytes: 5 * BYTES_PER_SECOND }));
    try {
      const t = transcribe({
        protocol: deepgram({ baseUrl: proxy.url, apiKey: 'k' }),
        reconnect: FAST_RETRY,
      });
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      expect(timedWords(events)).toEqual(expected(pcm));
      const stats = t.stats()!;
      expect(stats.reconnects).toBeGreaterThan(25);
      expect(proxy.connections).toBe(stats.reconnects + 1);
      expect(stats.replayedMs).toBeGreaterThan(0);
      // What is resent is what was unsettled when the connection dropped, not the stream again.
      expect(stats.replayedMs).toBeLessThan(stats.reconnects * 4000);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('a stall (nothing arriving, no FIN) every 5 s of audio: each found dead within deadAfterMs, no word lost', async () => {
    const { path, pcm } = writeSyntheticWav(suite.dir, 60, 32);
    const proxy = await faultProxy(suite.server.port, () => ({ stallAfterBytes: 5 * BYTES_PER_SECOND }));
    try {
      const statuses: SessionStatus[] = [];
      const t = transcribe({
        protocol: deepgram({ baseUrl: proxy.url }),
        reconnect: FAST_RETRY,
        deadAfterMs: 300,
      });
      const watched = t.status$.subscribe((s) => statuses.push(s));
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      watched.unsubscribe();
      expect(timedWords(events)).toEqual(expected(pcm));
      const deaths = statuses.filter((s) => s.state === 'reconnecting');
      expect(deaths.length).toBeGreaterThan(9);
      for (const s of deaths) expect(s.state === 'reconnecting' && s.error.kind).toBe('timeout');
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('server restarts mid-stream: the same words, each reconnect reported, a clean end', async () => {
    const { path, pcm } = writeSyntheticWav(suite.dir, 240, 33);
    let live = await startServer({ port: 0, engine: 'synthetic', realtime: 40 });
    const port = live.port;
    const statuses: SessionStatus[] = [];
    const t = transcribe({
      protocol: deepgram({ baseUrl: live.url }),
      reconnect: { ...FAST_RETRY, maxRetries: 50 },
    });
    t.status$.subscribe((s) => statuses.push(s));
    const restarts = (async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await live.close();
        await new Promise((resolve) => setTimeout(resolve, 100));
        live = await startServer({ port, engine: 'synthetic', realtime: 40 });
      }
    })();
    try {
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      await restarts;
      expect(timedWords(events)).toEqual(expected(pcm));
      expect(t.stats()!.reconnects).toBeGreaterThanOrEqual(3);
      expect(statuses.at(-1)).toEqual({ state: 'closed', code: 1000, session: 1 });
    } finally {
      await restarts;
      await live.close();
    }
  }, 60_000);
});
