import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLIENTS = ['rxjs-transcribe', 'rxjs-webSocket', 'rxjs-websockets', 'plain-ws'];

/** The part of cost.json that is checked here. */
interface Run {
  client: string;
  cold: boolean;
  ok: boolean;
  problems?: string[];
  cpuMs: number | null;
}
interface Summary {
  runs: number;
  failed: number;
  cpuSecondsPerAudioHour: number | null;
  cpuRatio: number | null;
}

const out = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-cost-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// The short form of bench/cost.mjs: every client hears every word; no wall time is asserted.
describe('bench/cost.mjs, short (needs dist/, built by npm test)', () => {
  it('runs the four clients warm and cold; each hears every word, the right ones', async () => {
    if (!existsSync(`${ROOT}dist/esm/index.js`)) throw new Error('run npm test (or npm run build) first');
    await promisify(execFile)(
      process.execPath,
      [
        `${ROOT}bench/cost.mjs`,
        ...['--seconds', '60', '--rounds', '1', '--warmup', '1', '--cold', '1', '--out', out],
      ],
      { cwd: ROOT, timeout: 90_000 },
    );
    const data = JSON.parse(readFileSync(join(out, 'cost.json'), 'utf8')) as {
      runs: Run[];
      summary: Record<string, Summary>;
      openai: { runs: Run[]; summary: Record<string, Summary> };
    };
    expect(data.runs.map((r) => `${r.client} ${r.cold ? 'cold' : 'warm'}`).sort()).toEqual(
      CLIENTS.flatMap((c) => [`${c} cold`, `${c} warm`]).sort(),
    );
    for (const run of data.runs) {
      expect(run.problems, run.client).toBeUndefined();
      expect(run.ok, run.client).toBe(true);
      expect(run.cpuMs, run.client).toBeGreaterThan(0);
    }
    for (const client of CLIENTS) {
      expect(data.summary[client]).toMatchObject({ runs: 1, failed: 0 });
      expect(data.summary[client]!.cpuRatio).toBeGreaterThan(0);
    }
    // OpenAI's rows: both clients, warm and cold, heard the same words (a 24 kHz file, one word a second).
    expect(data.openai.runs.map((r) => `${r.client} ${r.cold ? 'cold' : 'warm'}`).sort()).toEqual([
      'plain-ws-openai cold',
      'plain-ws-openai warm',
      'rxjs-transcribe-openai cold',
      'rxjs-transcribe-openai warm',
    ]);
    for (const run of data.openai.runs) expect(run.problems, run.client).toBeUndefined();
    expect(data.openai.summary['rxjs-transcribe-openai']!.cpuRatio).toBeGreaterThan(0);
    const page = readFileSync(join(out, 'cost.md'), 'utf8');
    expect(page).toContain('| rxjs-transcribe |');
    expect(page).toContain('| rxjs-transcribe-openai |');
  }, 120_000);
});
