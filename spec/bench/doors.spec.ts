import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The part of doors.json that is checked here. */
interface Client {
  name: string;
  ok: boolean;
  problems?: string[];
  peakRssBytes: number | null;
  flow?: {
    producedSamples: number;
    emittedSamples: number;
    droppedSamples: number;
    bufferedSamples: number;
    peakBufferedMs: number;
    emittedMs: number;
  };
}

const out = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-doors-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// The short form of bench/doors.mjs: checks and buffer bounds, never wall times.
describe('bench/doors.mjs, short (needs dist/, built by npm test)', () => {
  it('sends 30 s of audio to a 20x server through each door and the peer: every word; the doors hold their bounds', async () => {
    if (!existsSync(`${ROOT}dist/esm/index.js`)) throw new Error('run npm test (or npm run build) first');
    await promisify(execFile)(
      process.execPath,
      [`${ROOT}bench/doors.mjs`, ...['--seconds', '30', '--factor', '20', '--out', out]],
      { cwd: ROOT, timeout: 90_000 },
    );
    const data = JSON.parse(readFileSync(join(out, 'doors.json'), 'utf8')) as { clients: Client[] };
    const byName = new Map(data.clients.map((c) => [c.name, c]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'assemblyai-stream-pattern',
        'async-iterator',
        'observable',
        'transcription-stream',
        'transcription-stream-unwaited',
      ].sort(),
    );
    for (const client of data.clients) {
      expect(client.problems, client.name).toBeUndefined();
      expect(client.ok, client.name).toBe(true);
      expect(client.peakRssBytes, client.name).toBeGreaterThan(0);
    }
    // Piped: the writable side takes audio as the session asks, cut to it (the default read-ahead, 500 ms).
    expect(byName.get('transcription-stream')!.flow).toMatchObject({ droppedSamples: 0, emittedMs: 30_000 });
    expect(byName.get('transcription-stream')!.flow!.peakBufferedMs).toBeLessThanOrEqual(500);
    // The iterator over a Node Readable: the read-ahead and one 64 KiB read (2,048 ms).
    expect(byName.get('async-iterator')!.flow).toMatchObject({ droppedSamples: 0, emittedMs: 30_000 });
    expect(byName.get('async-iterator')!.flow!.peakBufferedMs).toBeLessThanOrEqual(500 + 2048);
    // Never waiting: the 5 s push buffer, drops counted to the sample.
    const unwaited = byName.get('transcription-stream-unwaited')!.flow!;
    expect(unwaited.droppedSamples).toBeGreaterThan(0);
    expect(unwaited.producedSamples).toBe(
      unwaited.emittedSamples + unwaited.droppedSamples + unwaited.bufferedSamples,
    );
    expect(unwaited.peakBufferedMs).toBeLessThanOrEqual(5000 + 2048);
  }, 120_000);
});
