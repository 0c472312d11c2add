import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { lastValueFrom, type Observable, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioChunk } from '../../src/audio/audio-format.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { assemblyai } from '../../src/protocols/assemblyai.js';
import { deepgram } from '../../src/protocols/deepgram.js';
import { openaiRealtime } from '../../src/protocols/openai-realtime.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { fromFile } from '../../src/sources/from-file.js';
import { fromReadable } from '../../src/sources/from-readable.js';
import { fromReadableStream } from '../../src/sources/from-readable-stream.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { librivoxFiles } from '../helpers/audio.js';
import { roundTripWords } from '../helpers/openai-audio.js';

const files = librivoxFiles();
const reference = new Map<string, string[]>();
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ port: 0, engine: 'pocketsphinx' });
  for (const file of files) {
    const { stdout } = await promisify(execFile)('pocketsphinx_continuous', [
      '-infile',
      file,
      '-logfn',
      '/dev/null',
    ]);
    reference.set(file, stdout.split(/\s+/).filter(Boolean));
  }
}, 120_000);
afterAll(() => server.close());

async function run(audio: Observable<AudioChunk>): Promise<TranscriptEvent[]> {
  return lastValueFrom(audio.pipe(transcribe({ url: server.url }), toArray()));
}

function checkFinals(events: TranscriptEvent[], file: string): void {
  const finals = events.filter((e) => e.type === 'final');
  const words = finals.flatMap((e) => e.text.split(' '));
  expect(words).toEqual(reference.get(file));
  // Word times increase along one timeline, and each final spans its words.
  const timed = finals.flatMap((e) => e.words);
  expect(timed.map((w) => w.text)).toEqual(words);
  for (let i = 0; i < timed.length; i++) {
    expect(timed[i]!.endMs).toBeGreaterThan(timed[i]!.startMs);
    if (i > 0) expect(timed[i]!.startMs).toBeGreaterThanOrEqual(timed[i - 1]!.endMs);
  }
  for (const final of finals) {
    expect(final.startMs).toBe(final.words[0]!.startMs);
    expect(final.endMs).toBe(final.words.at(-1)!.endMs);
  }
}

describe('transcribe() end to end, pocketsphinx engine', () => {
  for (const file of files) {
    it(`gives the words of pocketsphinx_continuous for ${basename(file)}`, async () => {
      const events = await run(fromFile(file));
      checkFinals(events, file);
      // Partials come first and their times never run past the audio.
      const partials = events.filter((e) => e.type === 'partial');
      expect(partials.length).toBeGreaterThan(0);
      for (const p of partials) expect(p.endMs).toBeGreaterThanOrEqual(p.startMs);
    });
  }

  it('gives the same words from a Node stream and from a web stream of the same file', async () => {
    const file = files[3]!;
    checkFinals(await run(fromReadable(createReadStream(file), 'wav')), file);
    const web = Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>;
    checkFinals(await run(fromReadableStream(web, 'wav')), file);
  });

  it('gives the same words whatever the frame duration', async () => {
    const file = files[1]!;
    for (const frameMs of [20, 250]) {
      const events = await lastValueFrom(
        fromFile(file).pipe(transcribe({ url: server.url, frameMs }), toArray()),
      );
      checkFinals(events, file);
    }
  });
});

describe("transcribe() end to end over Deepgram's protocol (the reference server's /v1/listen), pocketsphinx engine", () => {
  for (const file of files) {
    it(`gives the words of pocketsphinx_continuous for ${basename(file)}`, async () => {
      const t = transcribe({ protocol: deepgram({ baseUrl: server.url, apiKey: 'k' }), reconnect: false });
      const events = await lastValueFrom(fromFile(file).pipe(t, toArray()));
      checkFinals(events, file);
      expect(events.some((e) => e.type === 'partial')).toBe(true);
      expect(t.stats()).toMatchObject({ reconnects: 0, droppedSamples: 0 });
    });
  }

  it('without interim results (finals alone return the window, 10 s of it): the same words', async () => {
    const file = files[2]!;
    const t = transcribe({
      protocol: deepgram({ baseUrl: server.url, interimResults: false }),
      reconnect: false,
    });
    const events = await lastValueFrom(fromFile(file).pipe(t, toArray()));
    checkFinals(events, file);
    expect(events.filter((e) => e.type === 'partial')).toEqual([]);
  });
});

describe("transcribe() end to end over OpenAI Realtime (the reference server's /v1/realtime), pocketsphinx engine", () => {
  // OpenAI takes 24 kHz: the library resamples to it and the emulator back to its 16 kHz
  // model, so the reference is pocketsphinx_continuous on that round trip (see openai-audio.ts).
  const roundTrip = new Map<string, string[]>();
  const dir = mkdtempSync(join(tmpdir(), 'librivox-openai-'));
  beforeAll(async () => {
    for (const file of files) roundTrip.set(file, await roundTripWords(file, dir, basename(file)));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The finals' words equal the reference; their spans lie in order on one timeline, within the audio. */
  function checkItems(events: TranscriptEvent[], file: string, audioMs: number): void {
    const finals = events.filter((e) => e.type === 'final');
    expect(finals.flatMap((e) => e.text.split(' ').filter(Boolean))).toEqual(roundTrip.get(file));
    for (let i = 0; i < finals.length; i++) {
      expect(finals[i]!.endMs).toBeGreaterThanOrEqual(finals[i]!.startMs);
      if (i > 0) expect(finals[i]!.startMs).toBeGreaterThanOrEqual(finals[i - 1]!.endMs);
      expect(typeof finals[i]!.id).toBe('string');
    }
    expect(finals.at(-1)!.endMs).toBeLessThanOrEqual(audioMs);
  }
  const audioMsOf = (file: string): number => (statSync(file).size - 44) / 32;

  for (const file of files) {
    it(`gives the words of pocketsphinx_continuous (via 24 kHz) for ${basename(file)}, server VAD`, async () => {
      const t = transcribe({
        protocol: openaiRealtime({ baseUrl: server.url, apiKey: 'k' }),
        reconnect: false,
        // Unpaced, the whole file is in the kernel's buffers at once and the heartbeat's ping
        // waits behind it while the recogniser works through it: on a loaded CI machine that
        // took over the default 10 s once (docs/protocols/openai-realtime.md, "pace").
        deadAfterMs: 60_000,
      });
      const events = await lastValueFrom(fromFile(file).pipe(t, toArray()));
      checkItems(events, file, audioMsOf(file));
      expect(t.stats()).toMatchObject({ reconnects: 0, droppedSamples: 0 });
    });
  }

  it('without turn detection (one item, committed at the end): the same words', async () => {
    const file = files[1]!;
    const t = transcribe({
      protocol: openaiRealtime({ baseUrl: server.url, turnDetection: null }),
      reconnect: false,
      deadAfterMs: 60_000, // as above
    });
    const events = await lastValueFrom(fromFile(file).pipe(t, toArray()));
    checkItems(events, file, audioMsOf(file));
    expect(events.filter((e) => e.type === 'final')).toHaveLength(1);
  });
});

// AssemblyAI's audio goes at real time (the emulator closes with 3007 otherwise): these rows
// take as long as the five files, about 25 s.
describe("transcribe() end to end over AssemblyAI's protocol (the reference server's /v3/ws), pocketsphinx engine", () => {
  for (const file of files) {
    it(`gives the words of pocketsphinx_continuous for ${basename(file)}`, async () => {
      const t = transcribe({ protocol: assemblyai({ baseUrl: server.url, apiKey: 'k' }), reconnect: false });
      const events = await lastValueFrom(fromFile(file).pipe(t, toArray()));
      checkFinals(events, file);
      expect(events.some((e) => e.type === 'partial')).toBe(true);
      expect(t.stats()).toMatchObject({ reconnects: 0, droppedSamples: 0 });
    });
  }
});
