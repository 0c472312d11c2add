import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { lastValueFrom, type Observable, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioChunk } from '../../src/audio/audio-format.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { deepgram } from '../../src/protocols/deepgram.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { fromFile } from '../../src/sources/from-file.js';
import { fromReadable } from '../../src/sources/from-readable.js';
import { fromReadableStream } from '../../src/sources/from-readable-stream.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { librivoxFiles } from '../helpers/audio.js';

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
