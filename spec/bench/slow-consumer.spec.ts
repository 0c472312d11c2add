import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The part of slow-consumer.json that is checked here. */
interface Client {
  name: string;
  ok: boolean;
  allRepliesArrived: boolean;
  problems?: string[];
  peakRssBytes: number | null;
  flow?: { droppedSamples: number; peakBufferedMs: number; emittedMs: number };
}

const out = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-slow-consumer-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// The short form of bench/slow-consumer.mjs: replies and buffer bounds, never wall times.
describe('bench/slow-consumer.mjs, short (needs dist/, built by npm test)', () => {
  it('sends 40 s of audio to a 20x server from the four clients: every reply; rxjs-transcribe holds at most its read-ahead', async () => {
    if (!existsSync(`${ROOT}dist/esm/index.js`)) throw new Error('run npm test (or npm run build) first');
    await promisify(execFile)(
      process.execPath,
      [`${ROOT}bench/slow-consumer.mjs`, ...['--seconds', '40', '--factor', '20', '--out', out]],
      { cwd: ROOT, timeout: 90_000 },
    );
    const data = JSON.parse(readFileSync(join(out, 'slow-consumer.json'), 'utf8')) as { clients: Client[] };
    expect(data.clients.map((c) => c.name).sort()).toEqual(
      ['plain-ws', 'rxjs-transcribe', 'rxjs-webSocket', 'rxjs-websockets'].sort(),
    );
    for (const client of data.clients) {
      expect(client.problems, client.name).toBeUndefined();
      expect(client.allRepliesArrived, client.name).toBe(true);
      expect(client.peakRssBytes, client.name).toBeGreaterThan(0);
    }
    const ours = data.clients.find((c) => c.name === 'rxjs-transcribe')!;
    // The default read-ahead is half the 1 s window; nothing is dropped from a file.
    expect(ours.flow).toMatchObject({ droppedSamples: 0, emittedMs: 40_000 });
    expect(ours.flow!.peakBufferedMs).toBeLessThanOrEqual(500);
    expect(readFileSync(join(out, 'slow-consumer.svg'), 'utf8')).toContain('<svg');
  }, 120_000);
});
