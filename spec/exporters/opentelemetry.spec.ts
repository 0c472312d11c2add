import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTelemetrySink } from '../../src/exporters/opentelemetry.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { fromFile } from '../../src/sources/from-file.js';
import { syntheticPcm, wavHeader } from '../helpers/audio.js';

/** The SDK's reader, held in memory: collect() on demand. */
class InMemoryReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const dir = mkdtempSync(join(tmpdir(), 'otel-'));
let stt: RunningServer;
beforeAll(async () => {
  stt = await startServer({ port: 0, engine: 'synthetic' });
});
afterAll(async () => {
  await stt.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('openTelemetrySink', () => {
  it('records sessions through the OpenTelemetry SDK, read back with an in-memory reader', async () => {
    const reader = new InMemoryReader();
    const provider = new MeterProvider({ readers: [reader] });
    const sink = openTelemetrySink(provider.getMeter('rxjs-transcribe-test'));
    const pcm = syntheticPcm(4, 16000, 9);
    const path = join(dir, 'four.wav');
    writeFileSync(path, Buffer.concat([wavHeader(pcm.length), pcm]));
    const t = transcribe({ url: stt.url, metricsIntervalMs: 10 });
    const tracking = sink.track(t);
    const events = await lastValueFrom(fromFile(path).pipe(t, toArray()));
    await new Promise((resolve) => setTimeout(resolve, 40));
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const point = (name: string) => all.find((m) => m.descriptor.name === name)?.dataPoints[0];
    expect(point('rxjs_transcribe.sessions')?.value).toBe(1);
    expect(point('rxjs_transcribe.sessions.active')?.value).toBe(0);
    expect(point('rxjs_transcribe.audio.sent')?.value).toBeCloseTo(4, 6);
    expect(point('rxjs_transcribe.audio.sent.bytes')?.value).toBe(128_000);
    expect(point('rxjs_transcribe.server.lag')?.value).toBe(0);
    // Sampled after the session closed: it holds no audio any more.
    expect(point('rxjs_transcribe.audio.held')?.value).toBe(0);
    expect(all.find((m) => m.descriptor.name === 'rxjs_transcribe.audio.held')?.descriptor.unit).toBe('By');
    const histogram = point('rxjs_transcribe.final.latency')?.value as { count: number } | undefined;
    expect(histogram?.count).toBe(events.filter((e) => e.type === 'final').length);
    expect(all.find((m) => m.descriptor.name === 'rxjs_transcribe.audio.sent')?.descriptor.unit).toBe('s');
    tracking.unsubscribe();
    await provider.shutdown();
  });
});
