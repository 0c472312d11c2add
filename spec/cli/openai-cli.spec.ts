import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { expectedSyntheticWords, syntheticPcm, wavHeader } from '../helpers/audio.js';

// `rxjs-transcribe FILE --protocol openai` against the reference server's /v1/realtime (needs
// `npm run build`, as the other CLI specs). The file is 24 kHz, OpenAI's rate, which neither
// the CLI nor the synthetic engine resamples: its words are computed here from the bytes.
const BIN = new URL('../../bin/rxjs-transcribe.mjs', import.meta.url).pathname;
const KEY = 'sk-cli-openai-3b9f2d';

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OPENAI_API_KEY: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('rxjs-transcribe --protocol openai', () => {
  let server: RunningServer;
  let dir: string;
  let file: string;
  const pcm = syntheticPcm(3.5, 24000, 61);
  beforeAll(async () => {
    server = await startServer({ port: 0, engine: 'synthetic', apiKeys: [KEY] });
    dir = mkdtempSync(join(tmpdir(), 'openai-cli-'));
    file = join(dir, 'three-and-a-half.wav');
    writeFileSync(file, Buffer.concat([wavHeader(pcm.length, 24000), pcm]));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('transcribes a file through /v1/realtime with the key from OPENAI_API_KEY, never echoing it', async () => {
    const run = await cli([file, '--protocol', 'openai', '--url', server.url, '--format', 'json'], {
      OPENAI_API_KEY: KEY,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const finals = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TranscriptEvent)
      .filter((e) => e.type === 'final');
    expect(finals.flatMap((e) => e.text.split(' '))).toEqual(
      expectedSyntheticWords(pcm, 24000).map((w) => w.word),
    );
    expect(finals.at(-1)?.endMs).toBe(3500);
    expect(run.stdout).not.toContain(KEY);
  });

  it('fails with an auth error for a wrong --api-key, the key nowhere in the output', async () => {
    const wrong = 'sk-wrong-key-00ff';
    const run = await cli([file, '--protocol', 'openai', '--url', server.url, '--api-key', wrong]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/OpenAI refused the credentials \(invalid_api_key/);
    expect(run.stderr + run.stdout).not.toContain(wrong);
  });

  it('asks for a key when there is none and no --url', async () => {
    const run = await cli([file, '--protocol', 'openai']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/OpenAI needs an API key: --api-key or OPENAI_API_KEY/);
  });
});
