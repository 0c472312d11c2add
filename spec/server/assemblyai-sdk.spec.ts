import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import {
  continuousWords,
  expectedSyntheticWords,
  librivoxFiles,
  syntheticPcm,
  wavHeader,
} from '../helpers/audio.js';
import { makeTestCertificate, type TestCertificate } from '../helpers/test-certificate.js';

/**
 * Fidelity: AssemblyAI's official SDK (`assemblyai`, pinned) pointed at the
 * reference server with `websocketBaseUrl`, over TLS (the SDK takes `wss:`
 * only). The SDK gives its `ws` client no `ca` option, and Node reads
 * NODE_EXTRA_CA_CERTS only at start, so each run is a child process trusting
 * the throwaway certificate (spec/helpers/assemblyai-sdk-run.mjs).
 */

const API_KEY = 'aai-sdk-test-key';
const RUNNER = new URL('../helpers/assemblyai-sdk-run.mjs', import.meta.url).pathname;

interface SdkWord {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly word_is_final: boolean;
}
interface SdkTurn {
  readonly turn_order: number;
  readonly end_of_turn: boolean;
  readonly turn_is_formatted: boolean;
  readonly transcript: string;
  readonly words: readonly SdkWord[];
}
interface SdkRun {
  readonly connectError?: string;
  readonly begin: { type: string; id: string; expires_at: number };
  readonly connectMs: number;
  readonly turns: readonly SdkTurn[];
  readonly errors: readonly string[];
  readonly closes: ReadonlyArray<{ code: number; reason: string }>;
  readonly closeMs: number;
  readonly warnings: readonly string[];
  readonly usedToken: boolean;
}

let certificate: TestCertificate;

async function runSdk(config: Record<string, unknown>): Promise<SdkRun> {
  const { stdout } = await promisify(execFile)(process.execPath, [RUNNER, JSON.stringify(config)], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: certificate.certPath },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as SdkRun;
}

function finalWords(run: SdkRun, formatted = false): SdkWord[] {
  return run.turns.filter((t) => t.end_of_turn && t.turn_is_formatted === formatted).flatMap((t) => t.words);
}

/** A clean run: connected at the first try within the SDK's 1 s Begin wait, no error, Termination awaited (not the 5 s timeout). */
function expectCleanEnd(run: SdkRun, server: RunningServer, errorsBefore: Record<number, number>): void {
  expect(run.connectError).toBeUndefined();
  expect(run.begin.type).toBe('Begin');
  expect(run.connectMs).toBeLessThan(1000);
  expect(run.warnings.filter((w) => /attempt/i.test(w))).toEqual([]);
  expect(run.errors).toEqual([]);
  expect(run.closeMs, `close() took ${run.closeMs} ms`).toBeLessThan(4000);
  // The server refused nothing: it ended the session with Termination and 1000.
  expect(server.stats().closedWithError).toEqual(errorsBefore);
}

beforeAll(() => {
  certificate = makeTestCertificate();
});
afterAll(() => certificate.remove());

describe('AssemblyAI SDK against the reference server over wss, pocketsphinx engine', () => {
  const files = librivoxFiles();
  const reference = new Map<string, string[]>();
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({
      port: 0,
      engine: 'pocketsphinx',
      apiKeys: [API_KEY],
      tls: { cert: certificate.cert, key: certificate.key },
    });
    for (const file of files) reference.set(file, await continuousWords(file));
  }, 120_000);
  afterAll(() => server.close());

  // At real time each run lasts as long as its file (3 to 7 s; 25 s for the five).
  for (const file of files) {
    it(`gives the words of pocketsphinx_continuous for ${basename(file)}, and ends cleanly`, async () => {
      const errorsBefore = server.stats().closedWithError;
      const run = await runSdk({ url: `${server.url}/v3/ws`, apiKey: API_KEY, file });
      expectCleanEnd(run, server, errorsBefore);
      const expected = reference.get(file)!;
      expect(expected.length).toBeGreaterThan(3);
      const words = finalWords(run);
      expect(words.map((w) => w.text)).toEqual(expected);
      // One timeline from 0 in ms: word times increase; turns are numbered in order.
      for (let i = 0; i < words.length; i++) {
        expect(words[i]!.end).toBeGreaterThan(words[i]!.start);
        if (i > 0) expect(words[i]!.start).toBeGreaterThanOrEqual(words[i - 1]!.end);
      }
      const finals = run.turns.filter((t) => t.end_of_turn);
      expect(finals.map((t) => t.turn_order)).toEqual(finals.map((_, i) => i));
      // Partial turns came before, with words not final yet.
      const partials = run.turns.filter((t) => !t.end_of_turn);
      expect(partials.length).toBeGreaterThan(0);
      for (const p of partials) for (const w of p.words) expect(w.word_is_final).toBe(false);
    });
  }
});

describe('AssemblyAI SDK against the reference server over wss, synthetic engine', () => {
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'assemblyai-sdk-'));
    server = await startServer({
      port: 0,
      engine: 'synthetic',
      apiKeys: [API_KEY],
      tls: { cert: certificate.cert, key: certificate.key },
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mints a temporary token with createTemporaryToken (GET /v3/token), connects with it, and gets formatted turns', async () => {
    const pcm = syntheticPcm(3, 16000, 21);
    const file = join(dir, 'three.wav');
    writeFileSync(file, Buffer.concat([wavHeader(pcm.length), pcm]));
    const errorsBefore = server.stats().closedWithError;
    const run = await runSdk({
      url: `${server.url}/v3/ws`,
      tokenFrom: server.url.replace(/^wss:/, 'https:'),
      apiKey: API_KEY,
      file,
      formatTurns: true,
    });
    expect(run.usedToken).toBe(true);
    expectCleanEnd(run, server, errorsBefore);
    const expected = expectedSyntheticWords(pcm);
    expect(finalWords(run).map((w) => [w.text, w.start, w.end])).toEqual(
      expected.map((w) => [w.word, w.start * 1000, w.end * 1000]),
    );
    expect(finalWords(run, true).map((w) => w.text)).toEqual(expected.map((w) => `W${w.word.slice(1)}.`));
  });

  it('is refused for an unknown key: connect() rejects with the 1008 Error (after the SDK retried it twice)', async () => {
    const pcm = syntheticPcm(1, 16000, 22);
    const file = join(dir, 'one.wav');
    writeFileSync(file, Buffer.concat([wavHeader(pcm.length), pcm]));
    const run = await runSdk({ url: `${server.url}/v3/ws`, apiKey: 'not-the-key', file });
    expect(run.connectError).toBe('Unauthorized Connection: Invalid API key');
    // 1008 is not among the SDK's permanent codes (4000-4003, 4101, from v2): it tries twice more.
    expect(run.warnings.filter((w) => /connect attempt/i.test(w))).toHaveLength(2);
  });
});
