import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { expectedSyntheticWords, syntheticPcm, wavHeader } from '../helpers/audio.js';
import { activeResources, eventually, leakable } from '../helpers/resources.js';
import { CONFIG_16K, chunk, EOF, finalWords, runClient } from '../helpers/vosk-client.js';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ port: 0, engine: 'synthetic', maxFrameBytes: 64 * 1024 });
});
afterAll(async () => {
  await server.close();
});

const pcm = syntheticPcm(3.3);
const expected = expectedSyntheticWords(pcm).map((w) => ({ ...w, conf: 1 }));

describe('reference server, Vosk protocol (synthetic engine)', () => {
  it('answers each audio frame and the EOF exactly once, the config not at all, then closes 1000', async () => {
    const frames = chunk(pcm, 3200);
    const run = await runClient(server.url, [CONFIG_16K, ...frames, EOF]);
    expect(run.closeCode).toBe(1000);
    expect(run.replies).toHaveLength(frames.length + 1);
    expect(finalWords(run)).toEqual(expected);
    // The last reply is the final result that follows EOF: the part second.
    expect(run.replies.at(-1)).toEqual({
      result: [{ ...expected.at(-1) }],
      text: expected.at(-1)?.word,
    });
    for (const reply of run.replies.slice(0, -1)) {
      expect('partial' in reply || 'result' in reply).toBe(true);
    }
  });

  it('serves a client that waits for each reply the same as one that never waits', async () => {
    const messages = [CONFIG_16K, ...chunk(pcm, 1000), EOF];
    const burst = await runClient(server.url, messages, { mode: 'burst' });
    const lockstep = await runClient(server.url, messages, { mode: 'lockstep' });
    expect(lockstep.replies).toEqual(burst.replies);
    expect(lockstep.closeCode).toBe(1000);
  });

  it('uses 16 kHz when the client sends no config', async () => {
    const run = await runClient(server.url, [...chunk(pcm, 8000), EOF]);
    expect(finalWords(run)).toEqual(expected);
  });

  it('skips the RIFF header of a WAV file piped as it is, even when split into tiny frames', async () => {
    const wav = Buffer.concat([wavHeader(pcm.length), pcm]);
    for (const size of [7, 4000, 60000]) {
      const frames = chunk(wav, size);
      const run = await runClient(server.url, [...frames, EOF]);
      expect(run.replies).toHaveLength(frames.length + 1);
      expect(finalWords(run)).toEqual(expected);
    }
  });

  it('takes the rate from a piped WAV header when there is no config', async () => {
    const pcm8k = syntheticPcm(2.5, 8000);
    const run = await runClient(server.url, [Buffer.concat([wavHeader(pcm8k.length, 8000), pcm8k]), EOF]);
    expect(finalWords(run)).toEqual(expectedSyntheticWords(pcm8k, 8000).map((w) => ({ ...w, conf: 1 })));
  });

  it('joins a sample split across two frames (odd byte splits)', async () => {
    const frames = chunk(pcm, 999);
    const run = await runClient(server.url, [CONFIG_16K, ...frames, EOF]);
    expect(finalWords(run)).toEqual(expected);
  });

  it('omits word times when the config says words: false', async () => {
    const run = await runClient(server.url, [
      JSON.stringify({ config: { sample_rate: 16000, words: false } }),
      ...chunk(pcm, 32000),
      EOF,
    ]);
    expect(run.replies.slice(0, 3)).toEqual(expected.slice(0, 3).map((w) => ({ text: w.word })));
  });
});

describe('reference server, the rest of the Vosk protocol (synthetic engine)', () => {
  it('answers {"reset" : 1} with the final for the audio so far and goes on, times counting from the start', async () => {
    // 1.5 s, a reset, then 2 s: the reset ends the short second, and the next seconds start at 1.5.
    const first = pcm.subarray(0, 48000);
    const second = pcm.subarray(48000, 48000 + 64000);
    const run = await runClient(
      server.url,
      [CONFIG_16K, ...chunk(first, 16000), '{"reset" : 1}', ...chunk(second, 16000), EOF],
      { mode: 'lockstep' },
    );
    expect(run.closeCode).toBe(1000);
    expect(run.replies).toHaveLength(3 + 1 + 4 + 1);
    const before = expectedSyntheticWords(first);
    const after = expectedSyntheticWords(second).map((w) => ({
      ...w,
      start: w.start + 1.5,
      end: w.end + 1.5,
    }));
    expect(run.replies[3]).toEqual({ result: [{ ...before[1]!, conf: 1 }], text: before[1]!.word });
    expect(finalWords(run)).toEqual([...before, ...after].map((w) => ({ ...w, conf: 1 })));
  });

  it('takes {"reset":1} without spaces, and a reset before any audio gives an empty final', async () => {
    const run = await runClient(server.url, ['{"reset":1}', ...chunk(pcm, 16000), EOF], { mode: 'lockstep' });
    expect(run.replies[0]).toEqual({ text: '' });
    expect(finalWords(run)).toEqual(expected);
  });

  it('gives finals as alternatives when the config asks for max_alternatives (one: the engine has no N-best)', async () => {
    const run = await runClient(server.url, [
      JSON.stringify({ config: { sample_rate: 16000, max_alternatives: 3 } }),
      ...chunk(pcm, 16000),
      EOF,
    ]);
    const finals = run.replies.filter((r) => 'alternatives' in r);
    expect(finals).toHaveLength(4);
    expect(finals.map((f) => f.alternatives)).toEqual(
      expected.map((w) => [
        { text: w.word, confidence: 1, result: [{ word: w.word, start: w.start, end: w.end }] },
      ]),
    );
  });

  it('takes a config after audio and changes nothing, as Vosk does', async () => {
    const late = JSON.stringify({ config: { sample_rate: 8000, words: false, max_alternatives: 2 } });
    const run = await runClient(server.url, [
      CONFIG_16K,
      ...chunk(pcm, 16000).slice(0, 1),
      late,
      ...chunk(pcm, 16000).slice(1),
      EOF,
    ]);
    expect(run.closeCode).toBe(1000);
    expect(finalWords(run)).toEqual(expected);
  });

  it('resamples a rate the engine does not take, from config or a WAV header', async () => {
    // The synthetic engine takes 8-192 kHz; 7999 Hz is below it, so the server resamples to 16 kHz.
    const { PcmRateConverter } = await import('../../src/server/pcm-rate-converter.js');
    const odd = syntheticPcm(2.2, 7999);
    const converter = new PcmRateConverter(7999, 16000);
    const fed = Buffer.concat([converter.push(odd), converter.flush()]);
    expect(fed.length / 2).toBe(Math.ceil(((odd.length / 2) * 16000) / 7999));
    const want = expectedSyntheticWords(fed).map((w) => w.word);
    const viaConfig = await runClient(server.url, [
      '{"config": {"sample_rate": 7999}}',
      ...chunk(odd, 1001),
      EOF,
    ]);
    expect(viaConfig.closeCode).toBe(1000);
    expect(finalWords(viaConfig).map((w) => w.word)).toEqual(want);
    const viaWav = await runClient(server.url, [Buffer.concat([wavHeader(odd.length, 7999), odd]), EOF]);
    expect(finalWords(viaWav).map((w) => w.word)).toEqual(want);
  });
});

describe('reference server, bad input', () => {
  const refusals: Array<[string, Array<string | Uint8Array>, number, RegExp]> = [
    ['text that is not JSON', ['{"config": '], 1007, /not JSON/],
    ['an unknown message', ['{"hello": 1}'], 1003, /unknown message/],
    [
      'a sample rate the server cannot resample',
      ['{"config": {"sample_rate": 4000}}'],
      1007,
      /sample rate 4000/,
    ],
    [
      'a frame over the size limit',
      [CONFIG_16K, Buffer.alloc(64 * 1024 + 2)],
      1009,
      /over the limit of 65536/,
    ],
    ['a malformed reset', ['{"reset": 2}'], 1007, /malformed reset/],
    [
      'a phrase_list that is not a list of strings',
      ['{"config": {"phrase_list": "one two"}}'],
      1007,
      /phrase_list/,
    ],
    ['a WAV header for stereo audio', [wavHeader(100, 16000, 2)], 1007, /stereo/],
    [
      'a WAV header whose rate disagrees with the config',
      [CONFIG_16K, wavHeader(100, 8000)],
      1007,
      /8000 Hz/,
    ],
  ];
  for (const [what, messages, code, reason] of refusals) {
    it(`closes with ${code} and a readable reason for ${what}`, async () => {
      const run = await runClient(server.url, messages);
      expect(run.closeCode).toBe(code);
      expect(run.closeReason).toMatch(reason);
    });
  }

  it('goes on serving everyone else while it refuses one client', async () => {
    const good = runClient(server.url, [CONFIG_16K, ...chunk(pcm, 3200), EOF], { mode: 'lockstep' });
    const bad = await Promise.all(refusals.map(([, messages]) => runClient(server.url, messages)));
    expect(bad.map((run) => run.closeCode)).toEqual(refusals.map(([, , code]) => code));
    const run = await good;
    expect(run.closeCode).toBe(1000);
    expect(finalWords(run)).toEqual(expected);
  });

  it('counts refusals by close code', () => {
    const stats = server.stats();
    expect(stats.closedWithError[1007]).toBeGreaterThanOrEqual(4);
    expect(stats.closedWithError[1009]).toBeGreaterThanOrEqual(1);
  });
});

describe('reference server, load and shutdown', () => {
  it('serves 1,000 concurrent synthetic sessions, each with its own words', async () => {
    const local = await startServer({ port: 0, engine: 'synthetic' });
    try {
      const runs = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => {
          const audio = syntheticPcm(1.25, 16000, i + 1);
          return runClient(local.url, [CONFIG_16K, ...chunk(audio, 6400), EOF]).then((run) => ({
            run,
            audio,
          }));
        }),
      );
      for (const { run, audio } of runs) {
        expect(run.closeCode).toBe(1000);
        expect(finalWords(run).map((w) => w.word)).toEqual(expectedSyntheticWords(audio).map((w) => w.word));
      }
      expect(local.stats().sessionsTotal).toBe(1000);
    } finally {
      await local.close();
    }
  });

  it('closes open sessions with 1001 on close() and leaves no sockets or servers behind', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100)); // let earlier tests' handles finish closing
    const before = leakable(activeResources());
    const local = await startServer({ port: 0, engine: 'synthetic' });
    const codes: number[] = [];
    const sockets = await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          new Promise<WebSocket>((resolve) => {
            const socket = new WebSocket(local.url);
            socket.on('open', () => {
              socket.send(CONFIG_16K);
              socket.send(Buffer.alloc(3200));
              resolve(socket);
            });
            socket.on('close', (code) => codes.push(code));
          }),
      ),
    );
    await eventually(() => expect(local.stats().sessions).toBe(5));
    await local.close();
    await eventually(() => expect(codes).toHaveLength(sockets.length));
    expect(codes.every((code) => code === 1001)).toBe(true);
    await eventually(() => expect(leakable(activeResources())).toEqual(before));
  });

  it('answers plain HTTP with a hint and refuses nothing else on the port', async () => {
    const response = await fetch(server.url.replace('ws:', 'http:'));
    expect(response.status).toBe(426);
    expect(await response.text()).toMatch(/WebSocket/);
  });
});
