import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Registry } from 'prom-client';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusSink } from '../../src/exporters/prometheus.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { fromFile } from '../../src/sources/from-file.js';
import { writeSyntheticWav } from '../helpers/audio.js';
import { faultProxy } from '../helpers/fault-proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'prom-'));
let stt: RunningServer;
let scrapeServer: Server;
let scrapeUrl: string;
const registry = new Registry();

beforeAll(async () => {
  stt = await startServer({ port: 0, engine: 'synthetic' });
  // The client's metrics served over HTTP, as a service would.
  scrapeServer = createServer(async (_request, response) => {
    response.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
  });
  await new Promise<void>((resolve) => scrapeServer.listen(0, '127.0.0.1', resolve));
  scrapeUrl = `http://127.0.0.1:${(scrapeServer.address() as AddressInfo).port}/metrics`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => scrapeServer.close(() => resolve()));
  await stt.close();
  rmSync(dir, { recursive: true, force: true });
});

const wav = (seconds: number, seed: number): string => writeSyntheticWav(dir, seconds, seed).path;

async function scrape(url: string): Promise<
  Map<
    string,
    Array<{
      value?: string;
      labels?: Record<string, string>;
      count?: string;
      buckets?: Record<string, string>;
    }>
  >
> {
  const text = await (await fetch(url)).text();
  return new Map(parsePrometheusTextFormat(text).map((f) => [f.name, [...f.metrics] as never]));
}

describe('prometheusSink', () => {
  it('aggregates sessions into bounded series on the given registry, scraped over HTTP and parsed', async () => {
    const sink = prometheusSink(registry, { prefix: 'stt_' });
    const proxy = await faultProxy(stt.port, (n) => (n < 2 ? { resetAfterBytes: 40_000 } : {}));
    try {
      const first = transcribe({ url: stt.url, metricsIntervalMs: 10 });
      const tracking = sink.track(first);
      const events = await lastValueFrom(fromFile(wav(5, 1)).pipe(first, toArray()));
      const second = transcribe({ url: proxy.url, metricsIntervalMs: 10, reconnect: { initialDelayMs: 5 } });
      tracking.add(sink.track(second));
      await lastValueFrom(fromFile(wav(3, 2)).pipe(second, toArray()));
      await new Promise((resolve) => setTimeout(resolve, 50)); // a last sample
      const metrics = await scrape(scrapeUrl);
      const one = (name: string): number => Number(metrics.get(name)?.[0]?.value);
      expect(one('stt_sessions_total')).toBe(2);
      expect(one('stt_sessions_active')).toBe(0);
      expect(one('stt_audio_sent_seconds_total')).toBeCloseTo(8, 6);
      expect(one('stt_audio_sent_bytes_total')).toBe(8 * 32000);
      expect(one('stt_reconnects_total')).toBe(2);
      expect(one('stt_audio_dropped_seconds_total')).toBe(0);
      expect(one('stt_audio_replayed_seconds_total')).toBeGreaterThan(0);
      const latency = metrics.get('stt_final_latency_seconds')?.[0];
      expect(Number(latency?.count)).toBeGreaterThanOrEqual(events.filter((e) => e.type === 'final').length);
      // Bounded: no labels carry a session, and nothing else is on the registry.
      for (const [name, samples] of metrics) {
        expect(name.startsWith('stt_')).toBe(true);
        for (const s of samples) expect(Object.keys(s.labels ?? {})).toEqual([]);
      }
      tracking.unsubscribe();
    } finally {
      await proxy.close();
    }
  });

  it('counts a session as active while it runs', async () => {
    const local = new Registry();
    const sink = prometheusSink(local);
    const t = transcribe({ url: stt.url });
    const tracking = sink.track(t);
    const { paced } = await import('../../src/operators/paced.js');
    const run = lastValueFrom(fromFile(wav(1, 3)).pipe(paced({ factor: 2 }), t, toArray()));
    let text = '';
    for (let i = 0; i < 100 && !/rxjs_transcribe_sessions_active 1/.test(text); i++) {
      text = await local.metrics();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(text).toMatch(/rxjs_transcribe_sessions_active 1/);
    await run;
    expect(await local.metrics()).toMatch(/rxjs_transcribe_sessions_active 0/);
    tracking.unsubscribe();
  });

  it('reports the memory a running session holds for audio, and none once it has closed', async () => {
    const local = new Registry();
    const sink = prometheusSink(local);
    const t = transcribe({ url: stt.url, metricsIntervalMs: 20 });
    const tracking = sink.track(t);
    const { paced } = await import('../../src/operators/paced.js');
    const held = async (): Promise<number> =>
      Number(/rxjs_transcribe_audio_held_bytes (\d+)/.exec(await local.metrics())?.[1] ?? Number.NaN);
    const run = lastValueFrom(fromFile(wav(1, 3)).pipe(paced({ factor: 2 }), t, toArray()));
    let whileRunning = 0;
    for (let i = 0; i < 150 && !(whileRunning > 0); i++) {
      whileRunning = await held();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // At least a frame of 16 kHz audio (3,200 bytes), and not the whole file.
    expect(whileRunning).toBeGreaterThanOrEqual(3200);
    expect(whileRunning).toBeLessThan(96_000);
    await run;
    let after = whileRunning;
    for (let i = 0; i < 100 && after !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      after = await held();
    }
    expect(after).toBe(0);
    tracking.unsubscribe();
  });
});
