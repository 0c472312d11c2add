import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { continuousWords, librivoxFiles, wavPcm } from '../helpers/audio.js';
import { childProcesses } from '../helpers/processes.js';
import { eventually } from '../helpers/resources.js';
import {
  type ClientRun,
  CONFIG_16K,
  chunk,
  EOF,
  finalText,
  finalWords,
  runClient,
} from '../helpers/vosk-client.js';

const ENGINE_COMM = 'pocketsphinx-en'; // the kernel keeps 15 characters of the name
const FRAME = 3200; // 100 ms

function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

const files = librivoxFiles();
const reference = new Map<string, string[]>();
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ port: 0, engine: 'pocketsphinx' });
  for (const file of files) reference.set(file, await continuousWords(file));
}, 120_000);
afterAll(async () => {
  await server.close();
});

function checkWords(run: ClientRun, file: string): void {
  expect(run.closeCode).toBe(1000);
  const expected = reference.get(file)!;
  expect(expected.length).toBeGreaterThan(3);
  expect(words(finalText(run))).toEqual(expected);
  // The per-word results say the same words, in time order, with confidences.
  const timed = finalWords(run);
  expect(timed.map((w) => w.word)).toEqual(expected);
  for (let i = 0; i < timed.length; i++) {
    const word = timed[i]!;
    expect(word.end).toBeGreaterThan(word.start);
    expect(word.conf).toBeGreaterThanOrEqual(0);
    expect(word.conf).toBeLessThanOrEqual(1);
    if (i > 0) expect(word.start).toBeGreaterThanOrEqual(timed[i - 1]!.end);
  }
}

describe('pocketsphinx engine', () => {
  it('finds five LibriVox recordings in pocketsphinx-testdata', () => {
    expect(files.map((f) => basename(f))).toHaveLength(5);
  });

  for (const file of files) {
    it(`says what pocketsphinx_continuous says for ${basename(file)}`, async () => {
      const run = await runClient(server.url, [CONFIG_16K, ...chunk(wavPcm(file), FRAME), EOF], {
        mode: 'lockstep',
      });
      checkWords(run, file);
      expect(run.replies).toHaveLength(Math.ceil(wavPcm(file).length / FRAME) + 1);
    });
  }

  it('says the same for a WAV file piped as it is, in frames of any size', async () => {
    const file = files[2]!;
    for (const size of [1001, 16384]) {
      const run = await runClient(server.url, [...chunk(readFileSync(file), size), EOF]);
      checkWords(run, file);
    }
  });

  it('gives partial hypotheses at least every 500 ms of speech', async () => {
    const file = files[0]!;
    const run = await runClient(server.url, [CONFIG_16K, ...chunk(wavPcm(file), FRAME), EOF], {
      mode: 'lockstep',
    });
    // Reply i answers audio up to (i + 1) * 100 ms. Inside each utterance (first word
    // to last word, as its final says), no 500 ms go by without a non-empty partial.
    let utteranceStart = 0;
    for (let i = 0; i < run.replies.length - 1; i++) {
      const reply = run.replies[i]!;
      if (!Array.isArray(reply.result)) continue;
      const timed = reply.result as Array<{ start: number; end: number }>;
      const first = timed[0]!.start * 1000;
      const last = timed.at(-1)!.end * 1000;
      const partialTimes = run.replies
        .slice(utteranceStart, i)
        .map((r, j) => ({ r, at: (utteranceStart + j + 1) * 100 }))
        .filter(({ r }) => typeof r.partial === 'string' && r.partial !== '')
        .map(({ at }) => at);
      expect(partialTimes.length).toBeGreaterThan(0);
      const marks = [first, ...partialTimes.filter((t) => t > first && t < last), last];
      for (let k = 1; k < marks.length; k++) expect(marks[k]! - marks[k - 1]!).toBeLessThanOrEqual(500);
      utteranceStart = i + 1;
    }
  });

  it('flushes the last utterance at EOF, even when the audio stops mid-speech', async () => {
    const pcm = wavPcm(files[0]!).subarray(0, 16000 * 2 * 2); // the first 2 s: speech runs on past them
    const run = await runClient(server.url, [CONFIG_16K, ...chunk(pcm, FRAME), EOF]);
    const last = run.replies.at(-1)!;
    expect(run.replies.slice(0, -1).some((r) => 'result' in r)).toBe(false);
    expect(words(String(last.text)).length).toBeGreaterThan(2);
    expect(last.result).toBeInstanceOf(Array);
  });

  it("refuses audio at a rate the server cannot resample to its model's, with 1007 and the reason", async () => {
    const run = await runClient(server.url, ['{"config": {"sample_rate": 4000}}', Buffer.alloc(882), EOF]);
    expect(run.closeCode).toBe(1007);
    expect(run.closeReason).toMatch(/sample rate 4000 .*not supported.*6000 to 192000/);
  });

  it('runs 20 sessions at once, each with its own process and the right words', async () => {
    const jobs = Array.from({ length: 20 }, (_, i) => files[i % files.length]!);
    const runs = await Promise.all(
      jobs.map((file) => runClient(server.url, [CONFIG_16K, ...chunk(wavPcm(file), FRAME), EOF])),
    );
    for (const [i, run] of runs.entries()) checkWords(run, jobs[i]!);
  }, 120_000);

  it('ends only the session whose engine process dies; the others carry on', async () => {
    const file = files[0]!;
    const messages = [CONFIG_16K, ...chunk(wavPcm(file), FRAME), EOF];
    let victimReplies = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The victim waits for each reply, and after its third holds back until the kill.
    const victim = runClient(server.url, messages, {
      mode: 'lockstep',
      onOpen: (socket) =>
        socket.on('message', () => {
          victimReplies += 1;
          if (victimReplies === 3) socket.pause();
          void gate.then(() => socket.resume());
        }),
    });
    await eventually(() => expect(victimReplies).toBeGreaterThanOrEqual(3), 20_000);
    const [pid] = childProcesses(ENGINE_COMM);
    expect(pid).toBeDefined();
    const others = [1, 2].map(() => runClient(server.url, messages, { mode: 'lockstep' }));
    process.kill(pid!, 'SIGKILL');
    release();
    const killed = await victim;
    expect(killed.closeCode).toBe(1011);
    expect(killed.closeReason).toMatch(/engine .*killed by SIGKILL/);
    for (const run of await Promise.all(others)) checkWords(run, file);
  });

  it('leaves no engine process behind after close(), even with sessions mid-stream', async () => {
    const local = await startServer({ port: 0, engine: 'pocketsphinx' });
    const pcm = wavPcm(files[1]!);
    let replies = 0;
    const runs = [1, 2, 3].map(() =>
      runClient(local.url, [CONFIG_16K, ...chunk(pcm, FRAME)], {
        mode: 'lockstep',
        onOpen: (socket) => socket.on('message', () => (replies += 1)),
      }),
    );
    await eventually(() => expect(replies).toBeGreaterThan(3), 20_000);
    expect(childProcesses(ENGINE_COMM).length).toBeGreaterThanOrEqual(3);
    await local.close();
    const codes = (await Promise.all(runs)).map((run) => run.closeCode);
    expect(codes).toEqual([1001, 1001, 1001]);
    // The shared server's sessions are all finished, so no engine process may remain.
    expect(childProcesses(ENGINE_COMM)).toEqual([]);
  });
});
