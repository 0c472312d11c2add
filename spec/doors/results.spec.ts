import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { PCM16_16K_MONO } from '../../src/audio/audio-format.js';
import { transcribeFile } from '../../src/doors/transcribe-file.js';
import { transcribeStream } from '../../src/doors/transcribe-stream.js';
import { TranscriptionStream } from '../../src/doors/transcription-stream.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { formatSrt, formatVtt } from '../../src/sinks/subtitles.js';
import { fromFile } from '../../src/sources/from-file.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { expectedTimedWords, timedWords, writeSyntheticWav } from '../helpers/audio.js';
import { syntheticSuite } from '../helpers/synthetic-suite.js';

const suite = syntheticSuite('rxjs-transcribe-doors');
const { path, pcm } = writeSyntheticWav(suite.dir, 6.5, 17);
const wav = readFileSync(path);

/** The Observable path's events for the same audio: what every door must equal. */
const observed = (): Promise<TranscriptEvent[]> =>
  lastValueFrom(fromFile(path).pipe(transcribe({ url: suite.server.url }), toArray()));

async function collect(stream: ReadableStream<TranscriptEvent>): Promise<TranscriptEvent[]> {
  const events: TranscriptEvent[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    events.push(value);
  }
}

async function iterate(stream: AsyncIterable<TranscriptEvent>): Promise<TranscriptEvent[]> {
  const events: TranscriptEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('the doors give what the Observable path gives', () => {
  it('the Observable path hears every word (the reference the others are held to)', async () => {
    expect(timedWords(await observed())).toEqual(expectedTimedWords(pcm));
  });

  it('transcribeFile: a path, a Blob, bytes and a web ReadableStream, with text, finals, stats, SRT and VTT', async () => {
    const reference = await observed();
    const finals = reference.filter((e) => e.type === 'final');
    const url = suite.server.url;
    const inputs = {
      path,
      blob: new Blob([wav]),
      bytes: new Uint8Array(wav),
      arrayBuffer: wav.buffer.slice(wav.byteOffset, wav.byteOffset + wav.length),
      web: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>,
    };
    for (const [name, input] of Object.entries(inputs)) {
      const transcript = await transcribeFile(input, { url });
      expect(transcript.finals, name).toEqual(finals);
      expect(transcript.text, name).toBe(finals.map((e) => e.text).join(' '));
      expect(transcript.toSrt(), name).toBe(formatSrt(reference));
      expect(transcript.toVtt(), name).toBe(formatVtt(reference));
      expect(transcript.stats, name).toMatchObject({ emittedMs: 6500, droppedMs: 0, bufferedMs: 0 });
    }
  });

  it('transcribeFile of raw PCM with a format', async () => {
    const reference = (await observed()).filter((e) => e.type === 'final');
    const transcript = await transcribeFile(new Uint8Array(pcm), {
      url: suite.server.url,
      format: PCM16_16K_MONO,
    });
    expect(transcript.finals).toEqual(reference);
  });

  it('transcribeStream over a Node Readable and a generator', async () => {
    const reference = await observed();
    const url = suite.server.url;
    expect(await iterate(transcribeStream(createReadStream(path), { url }))).toEqual(reference);
    async function* pieces(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < wav.length; at += 1000) yield wav.subarray(at, at + 1000);
    }
    expect(await iterate(transcribeStream(pieces(), { url, highWaterMark: 1 }))).toEqual(reference);
  });

  it('TranscriptionStream: Readable.toWeb(...) and a Blob stream pipeThrough it', async () => {
    const reference = await observed();
    const url = suite.server.url;
    const web = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
    expect(await collect(web.pipeThrough(new TranscriptionStream({ url })))).toEqual(reference);
    const blob = new Blob([wav.subarray(0, 5000), wav.subarray(5000)]);
    expect(await collect(blob.stream().pipeThrough(new TranscriptionStream({ url })))).toEqual(reference);
  });

  it('TranscriptionStream takes AudioChunks and raw PCM with a format', async () => {
    const reference = await observed();
    const url = suite.server.url;
    const chunks = new TranscriptionStream({ url });
    const events = collect(chunks.readable);
    const writer = chunks.writable.getWriter();
    const samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length));
    for (let at = 0; at < samples.length; at += 1600) {
      await writer.ready;
      await writer.write({ format: PCM16_16K_MONO, samples: samples.subarray(at, at + 1600) });
    }
    await writer.close();
    expect(await events).toEqual(reference);

    const raw = new TranscriptionStream({ url, format: PCM16_16K_MONO });
    const rawEvents = collect(raw.readable);
    const rawWriter = raw.writable.getWriter();
    // Split inside a sample: the stream joins the halves.
    for (let at = 0; at < pcm.length; at += 3333) {
      await rawWriter.ready;
      await rawWriter.write(pcm.subarray(at, at + 3333));
    }
    await rawWriter.close();
    expect(await rawEvents).toEqual(reference);
  });
});
