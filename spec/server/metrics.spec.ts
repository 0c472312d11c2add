import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/start-server.js';
import { syntheticPcm } from '../helpers/audio.js';
import { CONFIG_16K, chunk, EOF, runClient } from '../helpers/vosk-client.js';

async function scrape(
  url: string,
): Promise<
  Map<string, { type: string; metrics: Array<{ value: string; labels?: Record<string, string> }> }>
> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(await response.text());
  return new Map(families.map((f) => [f.name, { type: f.type, metrics: [...f.metrics] }]));
}

describe('reference server /metrics', () => {
  it('serves Prometheus text a real parser reads: sessions, audio consumed, engine time, real-time factor, errors by kind', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic' });
    try {
      const pcm = syntheticPcm(2.5);
      await runClient(server.url, [CONFIG_16K, ...chunk(pcm, 3200), EOF]);
      await runClient(server.url, [CONFIG_16K, ...chunk(pcm, 3200), EOF]);
      await runClient(server.url, ['{"config": {"sample_rate": 4000}}']); // refused with 1007
      await runClient(server.url, ['not json']); // refused with 1007
      await runClient(server.url, ['{"hello": 1}']); // refused with 1003
      const metrics = await scrape(server.metricsUrl);
      const value = (name: string, labels?: Record<string, string>): number => {
        const family = metrics.get(name);
        const sample = family?.metrics.find((m) =>
          Object.entries(labels ?? {}).every(([k, v]) => m.labels?.[k] === v),
        );
        if (sample === undefined) throw new Error(`no ${name} ${JSON.stringify(labels ?? {})}`);
        return Number(sample.value);
      };
      expect(metrics.get('rxjs_transcribe_server_sessions_total')?.type).toBe('COUNTER');
      expect(value('rxjs_transcribe_server_sessions_total')).toBe(5);
      expect(value('rxjs_transcribe_server_sessions')).toBe(0);
      expect(value('rxjs_transcribe_server_audio_seconds_total')).toBeCloseTo(5, 6);
      expect(value('rxjs_transcribe_server_engine_seconds_total')).toBeGreaterThan(0);
      const rtf = value('rxjs_transcribe_server_real_time_factor', { engine: 'synthetic' });
      expect(rtf).toBeGreaterThan(0);
      expect(rtf).toBeLessThan(1);
      expect(value('rxjs_transcribe_server_errors_total', { kind: 'protocol' })).toBe(3);
      // No default process metrics, and nothing on the global registry.
      expect([...metrics.keys()].every((name) => name.startsWith('rxjs_transcribe_server_'))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('counts open sessions while they are open', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic', realtime: 1 });
    try {
      const running = runClient(server.url, [CONFIG_16K, ...chunk(syntheticPcm(1), 3200), EOF]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const metrics = await scrape(server.metricsUrl);
      expect(Number(metrics.get('rxjs_transcribe_server_sessions')?.metrics[0]?.value)).toBe(1);
      await running;
    } finally {
      await server.close();
    }
  });
});
