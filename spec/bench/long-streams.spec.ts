import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The part of long-streams.json that is checked here. */
interface Result {
  name: string;
  ok: boolean;
  problems: string[];
  words: number;
  expectedWords: number;
  audioSeconds: number;
  stack: Record<'source' | 'send', { samples: number; maxFirstHalf: number; maxSecondHalf: number }>;
  heapSummary: { samples: number; growthBytes: number };
}

const out = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-long-streams-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// The short form of bench/long-streams.mjs: words, stack depth and heap growth, never wall times.
describe('bench/long-streams.mjs, short (needs dist/, built by npm test)', () => {
  it('streams 500,000 chunks and 2 h of audio: every word, a stack that does not deepen, a flat heap', async () => {
    if (!existsSync(`${ROOT}dist/esm/index.js`)) throw new Error('run npm test (or npm run build) first');
    await promisify(execFile)(
      process.execPath,
      [`${ROOT}bench/long-streams.mjs`, ...['--frames', '500000', '--hours', '2', '--out', out]],
      { cwd: ROOT, timeout: 90_000 },
    );
    const data = JSON.parse(readFileSync(join(out, 'long-streams.json'), 'utf8')) as { results: Result[] };
    expect(data.results.map((r) => [r.name, r.audioSeconds])).toEqual([
      ['frames', 500],
      ['hours', 7200],
    ]);
    for (const r of data.results) {
      expect(r.problems, r.name).toEqual([]);
      expect(r.ok, r.name).toBe(true);
      expect(r.words, r.name).toBe(r.expectedWords);
      for (const where of ['source', 'send'] as const) {
        expect(r.stack[where].samples, `${r.name} ${where}`).toBeGreaterThan(2);
        expect(r.stack[where].maxSecondHalf, `${r.name} ${where}`).toBeLessThanOrEqual(
          r.stack[where].maxFirstHalf,
        );
      }
      expect(r.heapSummary.samples, r.name).toBeGreaterThan(1);
      expect(r.heapSummary.growthBytes, r.name).toBeLessThan(4 * 1024 * 1024);
    }
    expect(readFileSync(join(out, 'long-streams.svg'), 'utf8')).toContain('<svg');
  }, 120_000);
});
