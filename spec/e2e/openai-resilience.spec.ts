import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { transcribe } from '../../src/operators/transcribe.js';
import { openaiRealtime } from '../../src/protocols/openai-realtime.js';
import { startServer } from '../../src/server/start-server.js';
import type { SessionStatus } from '../../src/session/session-status.js';
import { fromFile } from '../../src/sources/from-file.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { expectedSyntheticWords, syntheticPcm, wavHeader } from '../helpers/audio.js';
import { faultProxy } from '../helpers/fault-proxy.js';
import { syntheticSuite } from '../helpers/synthetic-suite.js';

// The guarantees of spec/e2e/resilience.spec.ts for OpenAI's Realtime protocol through the
// reference server's emulator. OpenAI gives no word times: the session finalises audio by
// each item's committed span, so replay and dedup rest on those spans. The audio is 24 kHz
// (OpenAI's rate), which the synthetic engine takes as it is: its words (one an item, one a
// second) are computed here from the bytes, exact.
const suite = syntheticSuite('openai-resilience');
const RATE = 24000;
/** A second of audio as append events on the wire (base64 is 4/3 of the bytes). */
const WIRE_BYTES_PER_SECOND = Math.round((RATE * 2 * 4) / 3);
const FAST_RETRY = { initialDelayMs: 5, maxDelayMs: 50, maxRetries: 10 } as const;

function writeWav24k(seconds: number, seed: number): { path: string; words: string[] } {
  const pcm = syntheticPcm(seconds, RATE, seed);
  const path = join(suite.dir, `synthetic-24k-${seconds}s-${seed}.wav`);
  writeFileSync(path, Buffer.concat([wavHeader(pcm.length, RATE), pcm]));
  return { path, words: expectedSyntheticWords(pcm, RATE).map((w) => w.word) };
}

/** The finals' words, checked to lie on one timeline: in order, not overlapping, ending with the audio. */
function finalWords(events: TranscriptEvent[], seconds: number): string[] {
  const finals = events.filter((e) => e.type === 'final');
  for (let i = 1; i < finals.length; i++)
    expect(finals[i]!.startMs).toBeGreaterThanOrEqual(finals[i - 1]!.endMs);
  expect(finals.at(-1)!.endMs).toBe(seconds * 1000);
  return finals.flatMap((e) => e.text.split(' ').filter(Boolean));
}

// OpenAI answers no audio frame, so credit is the socket's drain: unpaced, a file is in the
// kernel's buffers at once, and a fault that recurs before the server has answered what is
// in flight can make no progress (or, past maxReplayMs in flight, lose the oldest). `pace`
// bounds what is in flight by time, as a live source does: these runs pace (short audio).
describe('OpenAI Realtime, paced: reconnects that lose no words (synthetic engine, through the emulator)', () => {
  it('the connection reset every 2 s of audio: word for word the fault-free transcript', async () => {
    const { path, words } = writeWav24k(6, 41);
    const proxy = await faultProxy(suite.server.port, () => ({ resetAfterBytes: 2 * WIRE_BYTES_PER_SECOND }));
    try {
      const t = transcribe({
        protocol: openaiRealtime({ baseUrl: proxy.url, apiKey: 'k', pace: true }),
        reconnect: FAST_RETRY,
      });
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      expect(finalWords(events, 6)).toEqual(words);
      const stats = t.stats()!;
      expect(stats.reconnects).toBeGreaterThanOrEqual(2);
      expect(proxy.connections).toBe(stats.reconnects + 1);
      expect(stats.replayedMs).toBeGreaterThan(0);
      expect(stats.replayDroppedMs).toBe(0);
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it('a stall (nothing arriving, no FIN) every 2 s of audio: found dead by the heartbeat, no word lost', async () => {
    const { path, words } = writeWav24k(5, 42);
    const proxy = await faultProxy(suite.server.port, () => ({ stallAfterBytes: 2 * WIRE_BYTES_PER_SECOND }));
    try {
      const statuses: SessionStatus[] = [];
      const t = transcribe({
        protocol: openaiRealtime({ baseUrl: proxy.url, pace: true }),
        reconnect: FAST_RETRY,
        deadAfterMs: 300,
      });
      const watched = t.status$.subscribe((s) => statuses.push(s));
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      watched.unsubscribe();
      expect(finalWords(events, 5)).toEqual(words);
      const deaths = statuses.filter((s) => s.state === 'reconnecting');
      expect(deaths.length).toBeGreaterThanOrEqual(2);
      for (const s of deaths) expect(s.state === 'reconnecting' && s.error.kind).toBe('timeout');
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it('server restarts mid-stream: the same words, each reconnect reported, a clean end', async () => {
    const { path, words } = writeWav24k(6, 43);
    let live = await startServer({ port: 0, engine: 'synthetic' });
    const port = live.port;
    const statuses: SessionStatus[] = [];
    const t = transcribe({
      protocol: openaiRealtime({ baseUrl: live.url, pace: true }),
      reconnect: { ...FAST_RETRY, maxRetries: 50 },
    });
    t.status$.subscribe((s) => statuses.push(s));
    const restarts = (async () => {
      for (let i = 0; i < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        await live.close();
        await new Promise((resolve) => setTimeout(resolve, 100));
        live = await startServer({ port, engine: 'synthetic' });
      }
    })();
    try {
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      await restarts;
      expect(finalWords(events, 6)).toEqual(words);
      expect(t.stats()!.reconnects).toBeGreaterThanOrEqual(2);
      expect(t.stats()!.replayDroppedMs).toBe(0);
      expect(statuses.at(-1)).toEqual({ state: 'closed', code: 1000, session: 1 });
    } finally {
      await restarts;
      await live.close();
    }
  }, 30_000);
});

describe("OpenAI Realtime: the session's time limit", () => {
  it('moves to a new connection before the limit (connectionLimitMs): no session_expired, no word lost', async () => {
    const { path, words } = writeWav24k(6, 44);
    const server = await startServer({ port: 0, engine: 'synthetic', openai: { sessionLimitMs: 2500 } });
    try {
      const statuses: SessionStatus[] = [];
      const t = transcribe({
        protocol: openaiRealtime({ baseUrl: server.url, connectionLimitMs: 1500, pace: true }),
        reconnect: FAST_RETRY,
      });
      t.status$.subscribe((s) => statuses.push(s));
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      expect(finalWords(events, 6)).toEqual(words);
      const rotations = statuses.filter((s) => s.state === 'connecting' && s.reason === 'rotation');
      expect(rotations.length).toBeGreaterThanOrEqual(2);
      expect(statuses.some((s) => s.state === 'reconnecting')).toBe(false);
    } finally {
      await server.close();
    }
  }, 30_000);

  it('a session that expires anyway (session_expired): a new connection resends what was unfinalised', async () => {
    const { path, words } = writeWav24k(5, 45);
    const server = await startServer({ port: 0, engine: 'synthetic', openai: { sessionLimitMs: 1700 } });
    try {
      const statuses: SessionStatus[] = [];
      const t = transcribe({
        protocol: openaiRealtime({ baseUrl: server.url, pace: true }),
        reconnect: FAST_RETRY,
      });
      t.status$.subscribe((s) => statuses.push(s));
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      expect(finalWords(events, 5)).toEqual(words);
      const expired = statuses.filter((s) => s.state === 'reconnecting');
      expect(expired.length).toBeGreaterThanOrEqual(2);
      for (const s of expired)
        expect(s.state === 'reconnecting' && s.error.message).toMatch(/session_expired/);
    } finally {
      await server.close();
    }
  }, 30_000);
});

describe('OpenAI Realtime, unpaced: a file at socket speed', () => {
  it('reset every 100 ms of wall time, the server keeping up: no word lost or doubled', async () => {
    // Unpaced, the server's answers must come before the next fault: here the proxy resets on
    // time rather than on bytes, and the synthetic server keeps up. The first connection is
    // also reset a third of the way through the file, so that a fast machine, which may send
    // and hear the whole file within 100 ms, sees a fault too.
    const { path, words } = writeWav24k(30, 46);
    const proxy = await faultProxy(suite.server.port, (index) =>
      index === 0 ? { resetAfterBytes: 10 * WIRE_BYTES_PER_SECOND } : {},
    );
    const timer = setInterval(() => proxy.reset(), 100);
    try {
      const t = transcribe({
        protocol: openaiRealtime({ baseUrl: proxy.url }),
        reconnect: { ...FAST_RETRY, maxRetries: 30 },
      });
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      expect(finalWords(events, 30)).toEqual(words);
      expect(t.stats()!.reconnects).toBeGreaterThanOrEqual(1);
      expect(t.stats()!.replayDroppedMs).toBe(0);
    } finally {
      clearInterval(timer);
      await proxy.close();
    }
  }, 30_000);
});
