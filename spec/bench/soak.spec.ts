import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'soak-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** What the spec reads of bench/soak.mjs's soak.json. */
interface SoakData {
  ok: boolean;
  audioSeconds: number;
  faults: {
    byKind: Record<string, number>;
    list: Array<{ kind: string; connections: number }>;
  };
  reconnects: number;
  words: { expected: number; ok: number; lost: number; doubled: number; wrong: number };
  errors: unknown[];
  hungSessions: number;
  audio: { droppedMs: number };
  memory: { heapUsed: { growthBytes: number | null } };
  bounds: { maxHeapGrowthMB: number };
  checks: Array<{ name: string; ok: boolean; detail: string }>;
}

describe('soak (short form of npm run soak)', () => {
  it('20 s of 4 sessions at 10x with a reset, a stall, a server kill and a restart: no word lost or doubled, no error, heap bounded', async () => {
    // The benchmark loads the library from dist/, which npm test builds first.
    if (!existsSync(join(ROOT, 'dist/esm/index.js'))) {
      throw new Error('the soak runs dist/: run npm test (or npm run build)');
    }
    const run = await promisify(execFile)(
      process.execPath,
      ['bench/soak.mjs', '--minutes', '0.33', '--fault-every', '4', '--out', out],
      { cwd: ROOT, timeout: 90_000 },
    ).catch((error: { code?: number; stderr?: string }) => error);
    const json = join(out, 'soak.json');
    if (!existsSync(json)) throw new Error(`the soak wrote no results:\n${run.stderr ?? ''}`);
    const data = JSON.parse(readFileSync(json, 'utf8')) as SoakData;
    const failed = data.checks.filter((c) => !c.ok);
    expect(failed, `${run.stderr ?? ''}`).toEqual([]);
    expect(data.ok).toBe(true);
    expect('code' in run ? run.code : 0).toBe(0);

    for (const kind of ['reset', 'stall', 'server-kill', 'server-restart']) {
      expect(data.faults.byKind[kind], kind).toBeGreaterThanOrEqual(1);
    }
    // Every fault that broke a connection cost a reconnect at least.
    const breaking = data.faults.list.filter((f) => f.connections > 0).length;
    expect(breaking).toBeGreaterThanOrEqual(4);
    expect(data.reconnects).toBeGreaterThanOrEqual(breaking);

    expect(data.audioSeconds).toBeGreaterThan(0);
    expect(data.words).toEqual({
      expected: data.audioSeconds,
      ok: data.audioSeconds,
      lost: 0,
      doubled: 0,
      wrong: 0,
    });
    expect(data.errors).toEqual([]);
    expect(data.hungSessions).toBe(0);
    expect(data.audio.droppedMs).toBe(0);
    expect(data.memory.heapUsed.growthBytes).not.toBeNull();
    expect(data.memory.heapUsed.growthBytes!).toBeLessThanOrEqual(data.bounds.maxHeapGrowthMB * 1024 * 1024);
  }, 120_000);
});
