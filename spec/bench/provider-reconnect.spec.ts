import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The part of assemblyai-reconnect.json / openai-reconnect.json that is checked here. */
interface Result {
  name: string;
  ok: boolean;
  error?: string;
  connections: number;
  resets: number;
  words: {
    expected: number;
    right: number;
    lost: number;
    doubled: number;
    cutElsewhere: number;
    unknown: number;
  };
  audio: { neverTranscribedMs: number };
  timeline: { one: boolean };
}

const out = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-provider-reconnect-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function run(name: string, args: string[]): Promise<Result[]> {
  await promisify(execFile)(process.execPath, [`${ROOT}bench/${name}.mjs`, ...args, '--out', out], {
    cwd: ROOT,
    timeout: 90_000,
  });
  expect(readFileSync(join(out, `${name}.svg`), 'utf8')).toContain('<svg');
  expect(readFileSync(join(out, `${name}.md`), 'utf8')).toContain('## Results');
  return (JSON.parse(readFileSync(join(out, `${name}.json`), 'utf8')) as { results: Result[] }).results;
}

/** Ours: every word once, on one timeline, through the resets; the SDK as it is: one connection, lost at the first reset. */
function expectHarness(results: Result[], protocol: string): void {
  expect(results.map((r) => r.name)).toEqual([
    'rxjs-transcribe',
    'rxjs-transcribe-live',
    `${protocol}-sdk`,
    `${protocol}-sdk-reconnect`,
  ]);
  for (const r of results) expect(r.ok, `${r.name}: ${r.error}`).toBe(true);
  for (const r of results.slice(0, 2)) {
    expect(r.resets, r.name).toBeGreaterThan(0);
    expect(r.words, r.name).toMatchObject({ lost: 0, doubled: 0, cutElsewhere: 0, unknown: 0 });
    expect(r.words.right, r.name).toBe(r.words.expected);
    expect(r.timeline.one, r.name).toBe(true);
  }
  // The SDK as it is: at most one connection (none when a fault beats its first), never another.
  const sdk = results[2]!;
  expect(sdk.connections).toBeLessThanOrEqual(1);
  expect(sdk.resets).toBe(sdk.connections);
  expect(sdk.words.lost).toBeGreaterThan(0);
  expect(sdk.audio.neverTranscribedMs).toBeGreaterThan(0);
  const naive = results[3]!;
  expect(naive.connections).toBeGreaterThan(1);
}

// The short forms of bench/assemblyai-reconnect.mjs and bench/openai-reconnect.mjs: the
// harness runs (TLS, fault proxy, four client processes, the SDKs) and its accounting holds.
describe('bench/{assemblyai,openai}-reconnect.mjs, short (needs dist/ and .tools/node24, from npm test)', () => {
  it('AssemblyAI: 8 s at real time, a reset every 3 s', async () => {
    if (!existsSync(`${ROOT}dist/esm/index.js`)) throw new Error('run npm test (or npm run build) first');
    expectHarness(
      await run('assemblyai-reconnect', ['--seconds', '8', '--reset-every-ms', '3000']),
      'assemblyai',
    );
  }, 120_000);

  it('OpenAI Realtime: 12 s at 4x, a reset every 1000 ms', async () => {
    if (!existsSync(`${ROOT}dist/esm/index.js`)) throw new Error('run npm test (or npm run build) first');
    expectHarness(
      await run('openai-reconnect', ['--seconds', '12', '--pace', '4', '--reset-every-ms', '1000']),
      'openai',
    );
  }, 120_000);
});
