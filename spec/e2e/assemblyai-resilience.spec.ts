import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { transcribe } from '../../src/operators/transcribe.js';
import { assemblyai } from '../../src/protocols/assemblyai.js';
import { startServer } from '../../src/server/start-server.js';
import type { SessionStatus } from '../../src/session/session-status.js';
import { fromFile } from '../../src/sources/from-file.js';
import { expectedTimedWords as expected, timedWords, writeSyntheticWav } from '../helpers/audio.js';
import { faultProxy } from '../helpers/fault-proxy.js';
import { syntheticSuite } from '../helpers/synthetic-suite.js';

// The guarantees of spec/e2e/resilience.spec.ts for AssemblyAI's protocol through the reference
// server's emulator, which enforces AssemblyAI's rules (50-1,000 ms frames, real time, Begin
// before audio): word times restart at 0 on every connection (a new session each), and the
// session keeps them on one timeline, exact with the synthetic engine. Audio goes at real
// time, so each run takes as long as its audio: short files.
const suite = syntheticSuite('assemblyai-resilience');
const BYTES_PER_SECOND = 32000;
const FAST_RETRY = { initialDelayMs: 5, maxDelayMs: 50, maxRetries: 10 } as const;

describe('AssemblyAI: reconnects that lose no words (synthetic engine, through the emulator, at real time)', () => {
  it('a fault-free run: word for word the synthetic transcript, one connection, a clean end', async () => {
    const { path, pcm } = writeSyntheticWav(suite.dir, 4, 40);
    const statuses: SessionStatus[] = [];
    const t = transcribe({ protocol: assemblyai({ baseUrl: suite.server.url }), reconnect: false });
    t.status$.subscribe((s) => statuses.push(s));
    const started = performance.now();
    const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
    const tookMs = performance.now() - started;
    expect(timedWords(events)).toEqual(expected(pcm));
    expect(t.stats()).toMatchObject({ reconnects: 0, droppedSamples: 0 });
    expect(statuses.at(-1)).toEqual({ state: 'closed', code: 1000, session: 1 });
    // Paced at real time: a 4 s file takes about 4 s, not the milliseconds loopback would allow.
    expect(tookMs).toBeGreaterThan(3500);
  }, 30_000);

  it('formatTurns: one final per turn, the formatted one, on the same timeline', async () => {
    const { path, pcm } = writeSyntheticWav(suite.dir, 3, 45);
    const t = transcribe({
      protocol: assemblyai({ baseUrl: suite.server.url, formatTurns: true }),
      reconnect: false,
    });
    const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
    const finals = events.filter((e) => e.type === 'final');
    const plain = expected(pcm);
    expect(finals.map((e) => e.text)).toEqual(plain.map((w) => `W${w.text.slice(1)}.`));
    expect(timedWords(events).map((w) => [w.startMs, w.endMs])).toEqual(
      plain.map((w) => [w.startMs, w.endMs]),
    );
  }, 30_000);

  it('moves to a new connection before the session limit (3008): no Error, the same words', async () => {
    // The emulator's limit is 4 s here instead of 3 h; maxConnectionMs plays connectionLimitMs's part.
    const limited = await startServer({ port: 0, engine: 'synthetic', assemblyai: { maxSessionMs: 4000 } });
    const { path, pcm } = writeSyntheticWav(suite.dir, 9, 44);
    const statuses: SessionStatus[] = [];
    try {
      const t = transcribe({
        protocol: assemblyai({ baseUrl: limited.url }),
        maxConnectionMs: 2500,
        reconnect: FAST_RETRY,
      });
      t.status$.subscribe((s) => statuses.push(s));
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      expect(timedWords(events)).toEqual(expected(pcm));
      expect(t.stats()!.reconnects).toBeGreaterThanOrEqual(2);
      // Rotations, not failures: nothing was lost to a 3008.
      expect(statuses.filter((s) => s.state === 'reconnecting')).toEqual([]);
      expect(limited.stats().closedWithError).toEqual({});
    } finally {
      await limited.close();
    }
  }, 60_000);

  it('the connection reset every 3 s of audio: word for word the fault-free transcript, same times', async () => {
    const { path, pcm } = writeSyntheticWav(suite.dir, 15, 41);
    const proxy = await faultProxy(suite.server.port, () => ({ resetAfterBytes: 3 * BYTES_PER_SECOND }));
    try {
      const t = transcribe({
        protocol: assemblyai({ baseUrl: proxy.url, apiKey: 'k' }),
        reconnect: FAST_RETRY,
      });
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      expect(timedWords(events)).toEqual(expected(pcm));
      const stats = t.stats()!;
      expect(stats.reconnects).toBeGreaterThan(3);
      expect(proxy.connections).toBe(stats.reconnects + 1);
      expect(stats.replayedMs).toBeGreaterThan(0);
      // What is resent is what was unsettled when the connection dropped, not the stream again.
      expect(stats.replayedMs).toBeLessThan(stats.reconnects * 2500);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('a stall (nothing arriving, no FIN) every 4 s of audio: each found dead, no word lost', async () => {
    const { path, pcm } = writeSyntheticWav(suite.dir, 12, 42);
    const proxy = await faultProxy(suite.server.port, () => ({ stallAfterBytes: 4 * BYTES_PER_SECOND }));
    try {
      const statuses: SessionStatus[] = [];
      const t = transcribe({
        protocol: assemblyai({ baseUrl: proxy.url }),
        reconnect: FAST_RETRY,
        deadAfterMs: 1500,
      });
      const watched = t.status$.subscribe((s) => statuses.push(s));
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      watched.unsubscribe();
      expect(timedWords(events)).toEqual(expected(pcm));
      const deaths = statuses.filter((s) => s.state === 'reconnecting');
      expect(deaths.length).toBeGreaterThanOrEqual(2);
      for (const s of deaths) expect(s.state === 'reconnecting' && s.error.kind).toBe('timeout');
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('server restarts mid-stream: the same words, each reconnect reported, a clean end', async () => {
    const { path, pcm } = writeSyntheticWav(suite.dir, 12, 43);
    let live = await startServer({ port: 0, engine: 'synthetic' });
    const port = live.port;
    const statuses: SessionStatus[] = [];
    const t = transcribe({
      protocol: assemblyai({ baseUrl: live.url }),
      reconnect: { ...FAST_RETRY, maxRetries: 50 },
    });
    t.status$.subscribe((s) => statuses.push(s));
    const restarts = (async () => {
      for (let i = 0; i < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 3500));
        await live.close();
        await new Promise((resolve) => setTimeout(resolve, 100));
        live = await startServer({ port, engine: 'synthetic' });
      }
    })();
    try {
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      await restarts;
      expect(timedWords(events)).toEqual(expected(pcm));
      expect(t.stats()!.reconnects).toBeGreaterThanOrEqual(2);
      expect(statuses.at(-1)).toEqual({ state: 'closed', code: 1000, session: 1 });
    } finally {
      await restarts;
      await live.close();
    }
  }, 60_000);
});
