import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { DeepgramClient } from '@deepgram/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import {
  continuousWords,
  expectedSyntheticWords,
  librivoxFiles,
  syntheticPcm,
  wavPcm,
} from '../helpers/audio.js';
import { alternative, type DeepgramMessage } from '../helpers/deepgram-client.js';
import { childProcesses } from '../helpers/processes.js';
import { eventually } from '../helpers/resources.js';
import { chunk } from '../helpers/vosk-client.js';

/**
 * Fidelity: Deepgram's official SDK (@deepgram/sdk, pinned) pointed at the
 * reference server with `baseUrl`, as a developer would for offline work or CI.
 */

const API_KEY = 'sdk-test-key';
const FRAME = 3200; // 100 ms

type ConnectArgs = Parameters<DeepgramClient['listen']['v1']['connect']>[0];

interface SdkRun {
  readonly messages: DeepgramMessage[];
  readonly closeCode: number;
  readonly opens: number;
  readonly errors: Error[];
  /** Whether the SDK's reconnecting socket would open another connection. */
  readonly willReconnect: boolean;
}

/** Streams audio through the SDK: connect, send every frame, then `steps`, and wait for the close. */
async function runSdk(
  server: RunningServer,
  args: ConnectArgs,
  audio: readonly Uint8Array[],
  finish: (connection: Awaited<ReturnType<DeepgramClient['listen']['v1']['connect']>>) => void,
): Promise<SdkRun> {
  const client = new DeepgramClient({ apiKey: API_KEY, baseUrl: server.url });
  const connection = await client.listen.v1.connect(args);
  const messages: DeepgramMessage[] = [];
  const errors: Error[] = [];
  let opens = 0;
  const closed = new Promise<number>((resolve) => {
    connection.on('close', (event) => resolve(event.code));
  });
  connection.on('open', () => {
    opens += 1;
  });
  connection.on('message', (message) => messages.push(message as unknown as DeepgramMessage));
  connection.on('error', (error) => errors.push(error));
  connection.connect(); // the socket opens only now
  await connection.waitForOpen();
  for (const frame of audio) connection.sendMedia(frame);
  finish(connection);
  const closeCode = await closed;
  const willReconnect = (connection.socket as unknown as { _shouldReconnect: boolean })._shouldReconnect;
  connection.close();
  return { messages, closeCode, opens, errors, willReconnect };
}

function finalsOf(run: SdkRun): DeepgramMessage[] {
  return run.messages.filter((m) => m.type === 'Results' && m.is_final === true);
}

function finalWordsOf(run: SdkRun): string[] {
  return finalsOf(run).flatMap((m) => alternative(m).words.map((w) => w.word));
}

function expectCleanEnd(run: SdkRun): void {
  expect(run.errors).toEqual([]);
  expect(run.closeCode).toBe(1000);
  expect(run.opens).toBe(1);
  expect(run.willReconnect).toBe(false);
  expect(run.messages.at(-1)?.type).toBe('Metadata');
}

describe('Deepgram SDK against the reference server, pocketsphinx engine', () => {
  const files = librivoxFiles();
  const reference = new Map<string, string[]>();
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({ port: 0, engine: 'pocketsphinx', apiKeys: [API_KEY] });
    for (const file of files) reference.set(file, await continuousWords(file));
  }, 120_000);
  afterAll(async () => {
    await server.close();
  });

  for (const file of files) {
    it(`gives the words of pocketsphinx_continuous for ${basename(file)}, and ends cleanly`, async () => {
      const before = server.stats().sessionsTotal;
      const run = await runSdk(
        server,
        {
          model: 'nova-3',
          language: 'en-US',
          encoding: 'linear16',
          sample_rate: 16000,
          channels: 1,
          interim_results: 'true',
          punctuate: 'true',
          utterance_end_ms: 1000,
          vad_events: 'true',
        },
        chunk(wavPcm(file), FRAME),
        (connection) => connection.sendCloseStream({ type: 'CloseStream' }),
      );
      expectCleanEnd(run);
      const expected = reference.get(file)!;
      expect(expected.length).toBeGreaterThan(3);
      expect(finalWordsOf(run)).toEqual(expected);
      // One timeline from 0: word times increase, spans are contiguous, and interims came first.
      const words = finalsOf(run).flatMap((m) => alternative(m).words);
      for (let i = 1; i < words.length; i++)
        expect(words[i]!.start).toBeGreaterThanOrEqual(words[i - 1]!.end);
      let end = 0;
      for (const final of finalsOf(run)) {
        expect(final.start as number).toBeCloseTo(end, 5);
        end = (final.start as number) + (final.duration as number);
      }
      const seconds = wavPcm(file).length / 32000;
      expect(end).toBeCloseTo(seconds, 5);
      expect(run.messages.at(-1)?.duration).toBeCloseTo(seconds, 5);
      expect(run.messages.some((m) => m.type === 'Results' && m.is_final === false)).toBe(true);
      expect(run.messages.some((m) => m.type === 'SpeechStarted')).toBe(true);
      expect(server.stats().sessionsTotal - before).toBe(1);
    });
  }

  it('flushes on Finalize mid-file (a new recogniser process after it), on one timeline', async () => {
    const file = files[0]!;
    const pcm = wavPcm(file);
    const cut = 16000 * 2 * 2; // 2 s in: speech goes on past it
    const run = await runSdk(
      server,
      { model: 'nova-3', encoding: 'linear16', sample_rate: 16000 },
      chunk(pcm.subarray(0, cut), FRAME),
      (connection) => {
        connection.sendFinalize({ type: 'Finalize' });
        for (const frame of chunk(pcm.subarray(cut), FRAME)) connection.sendMedia(frame);
        connection.sendCloseStream({ type: 'CloseStream' });
      },
    );
    expectCleanEnd(run);
    const all = finalsOf(run);
    const flushed = all.findIndex((m) => m.from_finalize === true);
    expect(flushed).toBeGreaterThanOrEqual(0);
    // The flush ends at the cut; everything after it starts there or later.
    const flush = all[flushed]!;
    expect((flush.start as number) + (flush.duration as number)).toBeCloseTo(2, 5);
    expect(alternative(flush).words.length).toBeGreaterThan(0);
    const later = all.slice(flushed + 1).flatMap((m) => alternative(m).words);
    expect(later.length).toBeGreaterThan(0);
    for (const word of later) expect(word.start).toBeGreaterThanOrEqual(2);
    const words = all.flatMap((m) => alternative(m).words);
    for (let i = 1; i < words.length; i++) expect(words[i]!.start).toBeGreaterThanOrEqual(words[i - 1]!.end);
    expect(run.messages.at(-1)?.duration).toBeCloseTo(pcm.length / 32000, 5);
    await eventually(() => expect(childProcesses('pocketsphinx-en')).toEqual([]));
  });

  it('gives the same words for a WAV file sent as it is, without encoding', async () => {
    const file = files[2]!;
    const run = await runSdk(server, { model: 'nova-3' }, chunk(readFileSync(file), 16384), (connection) =>
      connection.sendCloseStream({ type: 'CloseStream' }),
    );
    expectCleanEnd(run);
    expect(finalWordsOf(run)).toEqual(reference.get(file));
  });
});

describe('Deepgram SDK against the reference server, synthetic engine', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, engine: 'synthetic', deepgramIdleTimeoutMs: 500 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('sends KeepAlive and Finalize through the SDK and gets a from_finalize final', async () => {
    const pcm = syntheticPcm(1.5);
    const run = await runSdk(
      server,
      { model: 'nova-3', encoding: 'linear16', sample_rate: 16000 },
      chunk(pcm, FRAME),
      (connection) => {
        connection.sendKeepAlive({ type: 'KeepAlive' });
        connection.sendFinalize({ type: 'Finalize' });
        // Past the idle timeout, kept open by KeepAlive.
        const timer = setInterval(() => connection.sendKeepAlive({ type: 'KeepAlive' }), 200);
        setTimeout(() => {
          clearInterval(timer);
          connection.sendCloseStream({ type: 'CloseStream' });
        }, 900);
      },
    );
    expectCleanEnd(run);
    expect(finalsOf(run).map((m) => m.from_finalize)).toEqual([false, true]);
    expect(finalWordsOf(run)).toEqual(expectedSyntheticWords(pcm).map((w) => w.word));
  });

  it('takes the key in the browser way too (subprotocols token, KEY), the server selecting token', async () => {
    const client = new DeepgramClient({ apiKey: 'unused', baseUrl: server.url });
    const connection = await client.listen.v1.connect({
      model: 'nova-3',
      encoding: 'linear16',
      sample_rate: 16000,
      protocols: ['token', 'browser-key'],
      reconnectAttempts: 0,
    });
    const closed = new Promise<number>((resolve) => connection.on('close', (event) => resolve(event.code)));
    connection.connect();
    const ws = await connection.waitForOpen();
    expect(ws.protocol).toBe('token');
    connection.sendCloseStream({ type: 'CloseStream' });
    expect(await closed).toBe(1000);
    connection.close();
  });
});
