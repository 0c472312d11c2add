import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const SESSIONS = [20, 50];
const SECONDS = 2;

/** The part of a step of concurrency.json that is checked here. */
interface Row {
  client: string;
  sessions: number;
  ok?: boolean;
  problems?: string[];
  skipped?: string;
  errors?: number;
  framesDue?: number;
  framesSent?: number;
  unsent?: number;
  finals?: number;
  heapPerSessionBytes?: number;
  arrayBuffersPerSessionBytes?: number;
}

const out = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-concurrency-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// The short form of bench/concurrency.mjs: counts, errors and memory bounds, never wall times.
describe('bench/concurrency.mjs, short (needs dist/, built by npm test)', () => {
  it('runs N real-time sessions of plain ws and of rxjs-transcribe, every frame sent, no errors, bounded heap', async () => {
    if (!existsSync(`${ROOT}dist/esm/index.js`)) throw new Error('run npm test (or npm run build) first');
    await promisify(execFile)(
      process.execPath,
      [
        `${ROOT}bench/concurrency.mjs`,
        ...['--sessions', SESSIONS.join(','), '--seconds', String(SECONDS), '--settle', '1'],
        // No step is skipped for lateness, however busy the machine: lateness is not asserted.
        ...['--limit-ms', '600000', '--out', out],
      ],
      { cwd: ROOT, timeout: 90_000 },
    );
    const data = JSON.parse(readFileSync(join(out, 'concurrency.json'), 'utf8')) as { rows: Row[] };
    expect(readFileSync(join(out, 'concurrency.md'), 'utf8')).toContain('| 50 | rxjs-transcribe |');
    expect(readFileSync(join(out, 'concurrency.svg'), 'utf8')).toContain('<svg');
    expect(data.rows.map((r) => `${r.client} ${r.sessions}`).sort()).toEqual(
      SESSIONS.flatMap((n) => [`plain-ws ${n}`, `rxjs-transcribe ${n}`]).sort(),
    );
    for (const row of data.rows) {
      const where = `${row.client} x ${row.sessions}`;
      expect(row.problems, where).toEqual([]);
      expect(row.ok, where).toBe(true);
      expect(row.errors, where).toBe(0);
      // Every session has exactly SECONDS * 10 frames due in the window, and sent them all.
      expect(row.framesDue, where).toBe(row.sessions * SECONDS * 10);
      expect(row.framesSent, where).toBe(row.framesDue);
      expect(row.unsent, where).toBe(0);
      // One final per second of audio: each session sent at least settle + window seconds.
      expect(row.finals, where).toBeGreaterThanOrEqual(row.sessions * SECONDS);
      // Generous bounds: at small N the code compiled on first use weighs on the per-session figure.
      expect(row.heapPerSessionBytes, where).toBeLessThan(256 * 1024);
      expect(row.arrayBuffersPerSessionBytes, where).toBeLessThan(256 * 1024);
    }
  }, 120_000);
});
