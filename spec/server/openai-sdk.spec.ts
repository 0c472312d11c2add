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
  wavPcm,
} from '../helpers/audio.js';
import { node24 } from '../helpers/node24.js';
import { resamplePcm, roundTripWords, wordDistance } from '../helpers/openai-audio.js';
import type { RealtimeEvent } from '../helpers/openai-client.js';
import { childProcesses } from '../helpers/processes.js';
import { eventually } from '../helpers/resources.js';
import { makeTestCertificate, type TestCertificate } from '../helpers/test-certificate.js';

/**
 * Fidelity: OpenAI's official SDK (`openai` 7.59, `OpenAIRealtimeWS` with
 * `intent: 'transcription'`) pointed at the emulator with `baseURL`, as a
 * developer would. openai 7 declares Node >= 22 and this suite runs on Node
 * 20, so the SDK runs in a child process under the Node 24 binary that the
 * setup installs (spec/helpers/openai-sdk-run.mjs), against the server this
 * spec starts. The SDK forces `wss:`: the server serves a throwaway
 * certificate, which the child trusts with `options.ca`.
 */

const API_KEY = 'sk-sdk-test-key';
const RUNNER = new URL('../helpers/openai-sdk-run.mjs', import.meta.url).pathname;

interface SdkRun {
  readonly url: string;
  readonly events: RealtimeEvent[];
  readonly errors: string[];
  readonly close: number;
  /** The prefix of the ephemeral key the SDK minted, when it did. */
  readonly minted: string | undefined;
}

let certificate: TestCertificate;
let dir: string;

beforeAll(() => {
  certificate = makeTestCertificate();
  dir = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-openai-sdk-'));
});
afterAll(() => {
  certificate.remove();
  rmSync(dir, { recursive: true, force: true });
});

async function runSdk(
  server: RunningServer,
  pcm24: Uint8Array,
  vad: boolean,
  name: string,
  mint = false,
): Promise<SdkRun> {
  const path = join(dir, `${name}.pcm`);
  writeFileSync(path, pcm24);
  const { stdout } = await promisify(execFile)(node24(), [RUNNER], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      PATH: process.env.PATH ?? '',
      SDK_BASE_URL: `https://127.0.0.1:${server.port}/v1`,
      SDK_API_KEY: API_KEY,
      SDK_CA: certificate.certPath,
      SDK_PCM: path,
      SDK_VAD: vad ? '1' : '0',
      SDK_MINT: mint ? '1' : '0',
      NODE_EXTRA_CA_CERTS: certificate.certPath,
    },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = stdout
    .split('\n')
    .filter(Boolean)
    .map(
      (line) =>
        JSON.parse(line) as {
          url?: string;
          event?: RealtimeEvent;
          error?: string;
          close?: number;
          minted?: string;
        },
    );
  return {
    url: lines.find((l) => l.url !== undefined)?.url ?? '',
    events: lines.flatMap((l) => (l.event !== undefined ? [l.event] : [])),
    errors: lines.flatMap((l) => (l.error !== undefined ? [l.error] : [])),
    close: lines.find((l) => l.close !== undefined)?.close ?? -1,
    minted: lines.find((l) => l.minted !== undefined)?.minted,
  };
}

const to24k = (pcm16k: Buffer): Buffer => resamplePcm(pcm16k, 16000, 24000);

const completedOf = (run: SdkRun) =>
  run.events.filter((e) => e.type === 'conversation.item.input_audio_transcription.completed');
const transcriptWords = (run: SdkRun) =>
  completedOf(run).flatMap((e) => String(e.transcript).split(' ').filter(Boolean));

function expectCleanRun(run: SdkRun): void {
  expect(run.errors).toEqual([]);
  expect(run.close).toBe(1000);
  expect(run.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v1\/realtime\?intent=transcription$/);
  expect(run.events[0]?.type).toBe('session.created');
  // Items are chained in order, and each is completed once.
  const committed = run.events.filter((e) => e.type === 'input_audio_buffer.committed');
  expect(committed.length).toBeGreaterThan(0);
  expect(committed[0]!.previous_item_id).toBeNull();
  for (let i = 1; i < committed.length; i++)
    expect(committed[i]!.previous_item_id).toBe(committed[i - 1]!.item_id);
  expect(completedOf(run).map((e) => e.item_id)).toEqual(committed.map((e) => e.item_id));
}

describe('OpenAI SDK against the emulator, pocketsphinx engine', () => {
  const files = librivoxFiles();
  const reference = new Map<string, string[]>();
  const original = new Map<string, string[]>();
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({
      port: 0,
      engine: 'pocketsphinx',
      apiKeys: [API_KEY],
      tls: { cert: certificate.cert, key: certificate.key },
    });
    for (const file of files) {
      reference.set(file, await roundTripWords(file, dir, basename(file)));
      original.set(file, await continuousWords(file));
    }
  }, 120_000);
  afterAll(async () => {
    await server.close();
  });

  for (const file of files) {
    it(`gives the words of pocketsphinx_continuous for ${basename(file)} with server VAD`, async () => {
      const run = await runSdk(server, to24k(wavPcm(file)), true, basename(file));
      expectCleanRun(run);
      const expected = reference.get(file)!;
      expect(expected.length).toBeGreaterThan(3);
      expect(transcriptWords(run)).toEqual(expected);
      // And close to what pocketsphinx_continuous says of the original file (the round trip
      // changes 5 words of 0870's 25, none of the other four files').
      expect(wordDistance(transcriptWords(run), original.get(file)!)).toBeLessThanOrEqual(
        Math.ceil(original.get(file)!.length * 0.25),
      );
      // VAD spans: each item's speech starts before it stops, after the one before stopped.
      const started = run.events.filter((e) => e.type === 'input_audio_buffer.speech_started');
      const stopped = run.events.filter((e) => e.type === 'input_audio_buffer.speech_stopped');
      expect(started.length).toBeGreaterThan(0);
      let last = 0;
      for (const stop of stopped) {
        const start = started.find((s) => s.item_id === stop.item_id)!;
        expect(start.audio_start_ms as number).toBeGreaterThanOrEqual(last);
        expect(stop.audio_end_ms as number).toBeGreaterThan(start.audio_start_ms as number);
        last = stop.audio_end_ms as number;
      }
    }, 120_000);
  }

  it('gives the same words with manual commits (turn_detection null): one item', async () => {
    const file = files[0]!;
    const run = await runSdk(server, to24k(wavPcm(file)), false, `manual-${basename(file)}`);
    expectCleanRun(run);
    expect(completedOf(run)).toHaveLength(1);
    expect(transcriptWords(run)).toEqual(reference.get(file));
  }, 120_000);

  it('leaves no recogniser process behind', async () => {
    await eventually(() => expect(childProcesses('pocketsphinx-en')).toEqual([]));
  });
});

describe('OpenAI SDK against the emulator, synthetic engine', () => {
  it('gets the synthetic words of the 24 kHz bytes it sent, one item a second', async () => {
    const server = await startServer({
      port: 0,
      engine: 'synthetic',
      apiKeys: [API_KEY],
      tls: { cert: certificate.cert, key: certificate.key },
    });
    try {
      const pcm = syntheticPcm(4.5, 24000, 9);
      const run = await runSdk(server, pcm, true, 'synthetic');
      expectCleanRun(run);
      expect(completedOf(run).map((e) => e.transcript)).toEqual(
        expectedSyntheticWords(pcm, 24000).map((w) => w.word),
      );
    } finally {
      await server.close();
    }
  }, 60_000);

  it("opens a session with an ephemeral key minted by the SDK's client.realtime.clientSecrets.create()", async () => {
    const server = await startServer({
      port: 0,
      engine: 'synthetic',
      apiKeys: [API_KEY],
      tls: { cert: certificate.cert, key: certificate.key },
    });
    try {
      const pcm = syntheticPcm(1.5, 24000, 10);
      const run = await runSdk(server, pcm, true, 'minted', true);
      expect(run.minted).toBe('ek_');
      expectCleanRun(run);
      expect(completedOf(run).map((e) => e.transcript)).toEqual(
        expectedSyntheticWords(pcm, 24000).map((w) => w.word),
      );
    } finally {
      await server.close();
    }
  }, 60_000);
});
