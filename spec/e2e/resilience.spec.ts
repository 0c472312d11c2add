import { createServer as createTcpServer } from 'node:net';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { TranscriptionError } from '../../src/errors/transcription-error.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { vosk } from '../../src/protocols/vosk.js';
import { type BreakerState, CircuitBreaker } from '../../src/resilience/circuit-breaker.js';
import { startServer } from '../../src/server/start-server.js';
import type { SessionStatus } from '../../src/session/session-status.js';
import { fromFile } from '../../src/sources/from-file.js';
import {
  expectedTimedWords as expected,
  syntheticPcm,
  timedWords,
  writeSyntheticWav,
} from '../helpers/audio.js';
import { faultProxy } from '../helpers/fault-proxy.js';
import { activeResources, eventually } from '../helpers/resources.js';
import { syntheticSuite } from '../helpers/synthetic-suite.js';

const suite = syntheticSuite('resilience');
const dir = suite.dir;
const BYTES_PER_SECOND = 32000;
const FAST_RETRY = { initialDelayMs: 5, maxDelayMs: 50, maxRetries: 10 } as const;

const wavOf = (seconds: number, seed: number) => writeSyntheticWav(dir, seconds, seed);

describe('reconnects that lose no words (synthetic engine)', () => {
  it('10 minutes with the connection reset every 3 s of audio: word for word the fault-free transcript, same times', async () => {
    const { path, pcm } = wavOf(600, 11);
    const proxy = await faultProxy(suite.server.port, () => ({ resetAfterBytes: 3 * BYTES_PER_SECOND }));
    try {
      const t = transcribe({ url: proxy.url, reconnect: FAST_RETRY });
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      expect(timedWords(events)).toEqual(expected(pcm));
      const stats = t.stats()!;
      expect(stats.reconnects).toBeGreaterThan(190);
      expect(proxy.connections).toBe(stats.reconnects + 1);
      expect(stats.replayedMs).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('finals without word times (words: false) settle audio too: resets resend only the unsettled, nothing lost or doubled', async () => {
    const { path, pcm } = wavOf(60, 21);
    const proxy = await faultProxy(suite.server.port, () => ({ resetAfterBytes: 3 * BYTES_PER_SECOND }));
    try {
      const t = transcribe({ url: proxy.url, protocol: vosk({ words: false }), reconnect: FAST_RETRY });
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      const finals = events.filter((e) => e.type === 'final');
      // Each final's own span (from its place in the replies): one word a second, on one timeline.
      expect(finals.map((e) => ({ text: e.text, startMs: e.startMs, endMs: e.endMs }))).toEqual(
        expected(pcm),
      );
      const stats = t.stats()!;
      // About one reset per 3 s of audio sent, however many; not thousands resending the same audio.
      expect(stats.reconnects).toBeGreaterThan(15);
      expect(stats.reconnects).toBeLessThan(40);
      // What is resent is what was unsettled when the connection dropped: the window, and a second at most.
      expect(stats.replayedMs).toBeLessThanOrEqual(stats.reconnects * 2000);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('10 minutes with a stall (nothing arriving, no FIN) every 3 s of audio: each found dead within deadAfterMs, no word lost', async () => {
    const { path, pcm } = wavOf(600, 12);
    const proxy = await faultProxy(suite.server.port, () => ({ stallAfterBytes: 3 * BYTES_PER_SECOND }));
    try {
      const statuses: SessionStatus[] = [];
      const t = transcribe({ url: proxy.url, reconnect: FAST_RETRY, deadAfterMs: 200 });
      const watched = t.status$.subscribe((s) => statuses.push(s));
      const started = Date.now();
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      watched.unsubscribe();
      expect(timedWords(events)).toEqual(expected(pcm));
      const deaths = statuses.filter((s) => s.state === 'reconnecting');
      expect(deaths.length).toBeGreaterThan(190);
      for (const s of deaths) expect(s.state === 'reconnecting' && s.error.kind).toBe('timeout');
      // Each stall costs about deadAfterMs (200 ms), not the minutes a TCP timeout would.
      expect(Date.now() - started).toBeLessThan(deaths.length * 1000 + 10_000);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('10 minutes with server restarts mid-stream: the same words, and status reports each reconnect', async () => {
    const { path, pcm } = wavOf(600, 13);
    let live = await startServer({ port: 0, engine: 'synthetic', realtime: 40 });
    const port = live.port;
    const statuses: SessionStatus[] = [];
    const t = transcribe({ url: live.url, reconnect: { ...FAST_RETRY, maxRetries: 50 } });
    t.status$.subscribe((s) => statuses.push(s));
    const restarts = (async () => {
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        await live.close();
        await new Promise((resolve) => setTimeout(resolve, 100));
        live = await startServer({ port, engine: 'synthetic', realtime: 40 });
      }
    })();
    try {
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      await restarts;
      expect(timedWords(events)).toEqual(expected(pcm));
      expect(t.stats()!.reconnects).toBeGreaterThanOrEqual(5);
      const states = statuses.map((s) => s.state);
      expect(states[0]).toBe('connecting');
      expect(states).toContain('reconnecting');
      expect(states.at(-1)).toBe('closed');
      expect(statuses.at(-1)).toEqual({ state: 'closed', code: 1000, session: 1 });
    } finally {
      await restarts;
      await live.close();
    }
  }, 60_000);

  it('over a slow, delayed uplink (throttled to 2x real time, 20 ms each way): the same words', async () => {
    const { path, pcm } = wavOf(10, 19);
    const proxy = await faultProxy(suite.server.port, () => ({
      throttleBytesPerSecond: 2 * BYTES_PER_SECOND,
      delayMs: 20,
    }));
    try {
      const t = transcribe({ url: proxy.url });
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      expect(timedWords(events)).toEqual(expected(pcm));
      expect(t.stats()).toMatchObject({ reconnects: 0, droppedSamples: 0 });
    } finally {
      await proxy.close();
    }
  }, 30_000);
});

describe('fatal errors and the breaker', () => {
  it('a fatal close (1008) is not retried and surfaces at once with its code', async () => {
    const proxy = await faultProxy(suite.server.port, () => ({
      closeAfterBytes: { bytes: 4000, code: 1008, reason: 'invalid token' },
    }));
    try {
      const { path } = wavOf(3, 14);
      const error = (await lastValueFrom(
        fromFile(path).pipe(transcribe({ url: proxy.url }), toArray()),
      ).catch((e: unknown) => e)) as TranscriptionError;
      expect(error).toMatchObject({ kind: 'auth', retryable: false, closeCode: 1008 });
      expect(error.message).toBe('server closed with 1008: invalid token');
      expect(proxy.connections).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('with the server down the breaker opens, fails fast, probes after the wait, and closes when it is back', async () => {
    // A port that accepts and drops every connection: the server is "down".
    let attempts = 0;
    const down = createTcpServer((socket) => {
      attempts += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as { port: number }).port;
    const breaker = new CircuitBreaker({
      strategy: { kind: 'consecutive', failures: 3 },
      halfOpenAfterMs: 400,
    });
    const states: BreakerState[] = [];
    breaker.state$.subscribe((s) => states.push(s));
    const { path, pcm } = wavOf(5, 15);
    const t = transcribe({
      url: `ws://127.0.0.1:${port}`,
      breaker,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100, maxRetries: 100 },
    });
    const run = lastValueFrom(fromFile(path).pipe(t, toArray()));
    await eventually(() => expect(breaker.state).toBe('open'), 5000);
    const attemptsWhenOpened = attempts;
    expect(attemptsWhenOpened).toBe(3);
    // While open, connecting fails fast: no attempt reaches the port.
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(attempts).toBe(attemptsWhenOpened);
    // The server comes back on the same port.
    await new Promise<void>((resolve) => down.close(() => resolve()));
    const back = await startServer({ port, engine: 'synthetic' });
    try {
      const events = await run;
      expect(timedWords(events)).toEqual(expected(pcm));
      expect(breaker.state).toBe('closed');
      expect(states.slice(0, 2)).toEqual(['closed', 'open']);
      expect(states).toContain('half-open');
      expect(states.at(-1)).toBe('closed');
    } finally {
      await back.close();
    }
  }, 30_000);

  it('1,000 connect-fail cycles leave no sockets, timers or listeners, and the heap flat', async () => {
    const gc = (globalThis as { gc?: () => void }).gc!;
    const { path } = wavOf(1, 16);
    const before = activeResources();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1000; i++) {
      const error = (await lastValueFrom(
        fromFile(path).pipe(transcribe({ url: 'ws://127.0.0.1:1', reconnect: false })),
      ).catch((e: unknown) => e)) as TranscriptionError;
      expect(error.kind).toBe('network');
    }
    await eventually(() => {
      const now = activeResources();
      for (const name of ['TCPSocketWrap', 'Timeout', 'FSReqPromise', 'FileHandle']) {
        expect(now[name] ?? 0, name).toBeLessThanOrEqual(before[name] ?? 0);
      }
    });
    gc();
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(4 * 1024 * 1024);
  }, 120_000);
});

/** Word error rate of `hypothesis` against `reference`, and the pairs of words the alignment matched. */
function align(
  reference: Array<{ text: string; startMs: number; endMs: number }>,
  hypothesis: Array<{ text: string; startMs: number; endMs: number }>,
): { wer: number; matched: Array<[number, number]> } {
  const n = reference.length;
  const m = hypothesis.length;
  const d = Array.from({ length: n + 1 }, (_, i) =>
    Array.from({ length: m + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const same = reference[i - 1]!.text === hypothesis[j - 1]!.text ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + same);
    }
  }
  const matched: Array<[number, number]> = [];
  for (let i = n, j = m; i > 0 && j > 0; ) {
    const same = reference[i - 1]!.text === hypothesis[j - 1]!.text;
    if (same && d[i]![j] === d[i - 1]![j - 1]) {
      matched.push([i - 1, j - 1]);
      i--;
      j--;
    } else if (d[i]![j] === d[i - 1]![j - 1]! + 1) {
      i--;
      j--;
    } else if (d[i]![j] === d[i - 1]![j]! + 1) i--;
    else j--;
  }
  return { wer: d[n]![m]! / Math.max(1, n), matched };
}

describe('reconnects that lose no words (pocketsphinx engine)', () => {
  it('each LibriVox recording with a reset every 3 s of audio: at most 5% WER against the fault-free run, times within 50 ms', async () => {
    const ps = await startServer({ port: 0, engine: 'pocketsphinx' });
    const proxy = await faultProxy(ps.port);
    try {
      const { librivoxFiles } = await import('../helpers/audio.js');
      let resets = 0;
      for (const file of librivoxFiles()) {
        const clean = timedWords(
          await lastValueFrom(fromFile(file).pipe(transcribe({ url: ps.url }), toArray())),
        );
        const t = transcribe({ url: proxy.url, reconnect: FAST_RETRY });
        // A reset after every 3 s of new audio: each connection first carries what the last
        // one left unfinalised (an utterance can outlast 3 s), then 3 s more.
        proxy.setPlan(() => ({
          resetAfterBytes: 2000 + (t.stats()?.unfinalisedMs ?? 0) * 32 * 1.01 + 3 * BYTES_PER_SECOND,
        }));
        const faulty = timedWords(await lastValueFrom(fromFile(file).pipe(t, toArray())));
        resets += t.stats()!.reconnects;
        const { wer, matched } = align(clean, faulty);
        expect(wer, file).toBeLessThanOrEqual(0.05);
        for (const [i, j] of matched) {
          expect(
            Math.abs(clean[i]!.startMs - faulty[j]!.startMs),
            `${file} ${clean[i]!.text}`,
          ).toBeLessThanOrEqual(50);
          expect(
            Math.abs(clean[i]!.endMs - faulty[j]!.endMs),
            `${file} ${clean[i]!.text}`,
          ).toBeLessThanOrEqual(50);
        }
      }
      expect(resets).toBeGreaterThanOrEqual(5); // every recording is longer than 3 s
    } finally {
      await proxy.close();
      await ps.close();
    }
  }, 120_000);
});

describe('heartbeat', () => {
  it('finds an idle connection dead by ping (nothing awaited, nothing arriving) and reconnects', async () => {
    const { Subject } = await import('rxjs');
    // Stall right after the handshake and config: no audio is in flight, so only a ping can tell.
    const proxy = await faultProxy(suite.server.port, (n) => (n === 0 ? { stallAfterMs: 200 } : {}));
    try {
      const subject = new Subject<import('../../src/audio/audio-format.js').AudioChunk>();
      const statuses: SessionStatus[] = [];
      const t = transcribe({ url: proxy.url, reconnect: FAST_RETRY, deadAfterMs: 200 });
      t.status$.subscribe((s) => statuses.push(s));
      const run = lastValueFrom(subject.pipe(t, toArray()));
      await eventually(() => expect(statuses.some((s) => s.state === 'reconnecting')).toBe(true), 3000);
      const reconnecting = statuses.find((s) => s.state === 'reconnecting');
      expect(reconnecting?.state === 'reconnecting' && reconnecting.error.message).toMatch(
        /no answer to ping for 200 ms/,
      );
      await eventually(() => expect(statuses.at(-1)?.state).toBe('open'), 3000);
      const pcm = syntheticPcm(2, 16000, 17);
      subject.next({
        format: { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' },
        samples: new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length)),
      });
      subject.complete();
      expect(timedWords(await run)).toEqual(expected(pcm));
    } finally {
      await proxy.close();
    }
  });
});

describe('connection rotation (maxConnectionMs)', () => {
  it('moves to fresh connections before the limit, without a gap or a lost word', async () => {
    const paced = await startServer({ port: 0, engine: 'synthetic', realtime: 10 });
    try {
      const { path, pcm } = wavOf(20, 18);
      const statuses: SessionStatus[] = [];
      const t = transcribe({ url: paced.url, maxConnectionMs: 400 });
      t.status$.subscribe((s) => statuses.push(s));
      const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
      expect(timedWords(events)).toEqual(expected(pcm));
      const rotations = statuses.filter((s) => s.state === 'connecting' && s.reason === 'rotation');
      expect(rotations.length).toBeGreaterThanOrEqual(3);
      expect(statuses.some((s) => s.state === 'reconnecting')).toBe(false); // no failure was involved
      expect(paced.stats().sessionsTotal).toBe(rotations.length + 1);
    } finally {
      await paced.close();
    }
  }, 30_000);
});

describe('the recogniser dying mid-stream', () => {
  it('a killed pocketsphinx engine (1011) is reconnected past, within 5% WER of the fault-free run', async () => {
    const { childProcesses } = await import('../helpers/processes.js');
    const { librivoxFiles } = await import('../helpers/audio.js');
    const { paced } = await import('../../src/operators/paced.js');
    const ps = await startServer({ port: 0, engine: 'pocketsphinx' });
    try {
      const file = librivoxFiles()[0]!; // 7.1 s, one long utterance
      const clean = timedWords(
        await lastValueFrom(fromFile(file).pipe(transcribe({ url: ps.url }), toArray())),
      );
      const statuses: SessionStatus[] = [];
      const t = transcribe({ url: ps.url, reconnect: FAST_RETRY });
      t.status$.subscribe((s) => statuses.push(s));
      // Paced at 4x so that the kill lands mid-stream, 2 s into the audio.
      const consumedBefore = ps.stats().audioBytes;
      const run = lastValueFrom(fromFile(file).pipe(paced({ factor: 4 }), t, toArray()));
      await eventually(
        () => expect(ps.stats().audioBytes - consumedBefore).toBeGreaterThan(2 * BYTES_PER_SECOND),
        10_000,
      );
      // The newest engine process is this session's (the clean run's may still be exiting).
      const engine = Math.max(...childProcesses('pocketsphinx-en'));
      process.kill(engine, 'SIGKILL');
      const faulty = timedWords(await run);
      const lost = statuses.find((s) => s.state === 'reconnecting');
      expect(lost?.state === 'reconnecting' && lost.error.closeCode).toBe(1011);
      const { wer } = align(clean, faulty);
      expect(wer).toBeLessThanOrEqual(0.05);
    } finally {
      await ps.close();
    }
  }, 60_000);
});
