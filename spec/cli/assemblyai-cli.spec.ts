import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { expectedSyntheticWords, syntheticPcm, wavHeader } from '../helpers/audio.js';

// `rxjs-transcribe FILE --protocol assemblyai` against the reference server's /v3/ws (needs
// `npm run build`, as the other CLI specs). AssemblyAI's audio goes at real time: 2 s files.
const BIN = new URL('../../bin/rxjs-transcribe.mjs', import.meta.url).pathname;
const KEY = 'aai-cli-key-5e8a1c';

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ASSEMBLYAI_API_KEY: '', ...env },
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

describe('rxjs-transcribe --protocol assemblyai', () => {
  let server: RunningServer;
  let dir: string;
  let file: string;
  const pcm = syntheticPcm(2, 16000, 51);
  beforeAll(async () => {
    server = await startServer({ port: 0, engine: 'synthetic', apiKeys: [KEY] });
    dir = mkdtempSync(join(tmpdir(), 'assemblyai-cli-'));
    file = join(dir, 'two.wav');
    writeFileSync(file, Buffer.concat([wavHeader(pcm.length), pcm]));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('transcribes a file through /v3/ws with the key from ASSEMBLYAI_API_KEY, never echoing it', async () => {
    const run = await cli([file, '--protocol', 'assemblyai', '--url', server.url, '--format', 'json'], {
      ASSEMBLYAI_API_KEY: KEY,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const finals = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TranscriptEvent)
      .filter((e) => e.type === 'final');
    expect(finals.flatMap((e) => e.words.map((w) => w.text))).toEqual(
      expectedSyntheticWords(pcm).map((w) => w.word),
    );
    expect(run.stdout).not.toContain(KEY);
  });

  it('fails with an auth error for a wrong --api-key, the key nowhere in the output', async () => {
    const wrong = 'aai-wrong-key-00ff';
    const run = await cli([file, '--protocol', 'assemblyai', '--url', server.url, '--api-key', wrong]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/Unauthorized Connection: Invalid API key/);
    expect(run.stderr + run.stdout).not.toContain(wrong);
  });

  it('asks for a key when there is none and no --url', async () => {
    const run = await cli([file, '--protocol', 'assemblyai']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/AssemblyAI needs an API key: --api-key or ASSEMBLYAI_API_KEY/);
  });
});
