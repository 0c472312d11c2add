import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transcribeStream } from '../../src/doors/transcribe-stream.js';
import { TranscriptionStream } from '../../src/doors/transcription-stream.js';
import { isTranscriptionError } from '../../src/errors/transcription-error.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { expectedTimedWords, syntheticPcm, timedWords, wavHeader } from '../helpers/audio.js';
import { syntheticSuite } from '../helpers/synthetic-suite.js';

const suite = syntheticSuite('rxjs-transcribe-doors-flow');
const BYTES_PER_MS = 32;
const CHUNK = 3200; // 100 ms
const WINDOW_MS = 1000;
const READ_AHEAD_MS = 500;

/** Waits until `read()` has not changed for a while (the pipeline has come to rest), and returns it. */
async function atRest(read: () => number, quietMs = 300): Promise<number> {
  let last = read();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const now = read();
    if (now === last) return now;
    last = now;
  }
}

function wavOf(seconds: number, seed: number): { wav: Buffer; pcm: Buffer } {
  const pcm = syntheticPcm(seconds, 16000, seed);
  return { wav: Buffer.concat([wavHeader(pcm.length), pcm]), pcm };
}

async function collect(stream: ReadableStream<TranscriptEvent>): Promise<TranscriptEvent[]> {
  const events: TranscriptEvent[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return events;
    events.push(value);
  }
}

describe('transcribeStream: the loop is the backpressure', () => {
  it('a loop that stops reads the source no further than the events it holds and the window; then it goes on, losing nothing', async () => {
    const { wav, pcm } = wavOf(60, 21);
    let pulled = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < wav.length; at += CHUNK) {
        pulled += Math.min(CHUNK, wav.length - at);
        yield wav.subarray(at, at + CHUNK);
      }
    }
    const highWaterMark = 2;
    const stream = transcribeStream(source(), { url: suite.server.url, highWaterMark });
    const events: TranscriptEvent[] = [];
    const first = await stream.next();
    if (first.done) throw new Error('no event');
    events.push(first.value);
    // The loop body is busy now: nothing is taken. The synthetic engine says a final per second.
    const heldBytes = await atRest(() => pulled);
    const deliveredMs = first.value.endMs;
    // Queued: highWaterMark events (1 s each) and those of the audio in flight when the gate shut.
    const boundMs = deliveredMs + (highWaterMark + 1) * 1000 + 2 * (WINDOW_MS + READ_AHEAD_MS) + 2 * 100;
    expect(heldBytes / BYTES_PER_MS).toBeLessThanOrEqual(boundMs);
    expect(heldBytes).toBeLessThan(wav.length / 4);
    for await (const event of stream) events.push(event);
    expect(timedWords(events)).toEqual(expectedTimedWords(pcm));
    expect(stream.stats()).toMatchObject({ droppedMs: 0, emittedMs: 60_000 });
  });
});

describe('TranscriptionStream: desiredSize and ready follow the session', () => {
  let slow: RunningServer;
  beforeAll(async () => {
    slow = await startServer({ port: 0, engine: 'synthetic', realtime: 10 });
  });
  afterAll(() => slow.close());

  it('a writer that awaits ready holds at most the window and its read-ahead beyond what the server consumed', async () => {
    const { wav, pcm } = wavOf(30, 22);
    const consumedBefore = slow.stats().audioBytes;
    const stream = new TranscriptionStream({ url: slow.url });
    const events = collect(stream.readable);
    const writer = stream.writable.getWriter();
    let accepted = 0;
    let worstAheadMs = 0;
    let waited = 0;
    for (let at = 0; at < wav.length; at += CHUNK) {
      const piece = wav.subarray(at, at + CHUNK);
      if ((writer.desiredSize ?? 0) <= 0) waited += 1;
      await writer.ready;
      void writer.write(piece).then(() => {
        accepted += piece.length;
      });
      const consumed = slow.stats().audioBytes - consumedBefore;
      worstAheadMs = Math.max(worstAheadMs, (accepted - 44 - consumed) / BYTES_PER_MS);
    }
    await writer.close();
    expect(timedWords(await events)).toEqual(expectedTimedWords(pcm));
    // The server is slower than the writer: the writer waited, and was held to the window.
    expect(waited).toBeGreaterThan(0);
    expect(worstAheadMs).toBeLessThanOrEqual(WINDOW_MS + READ_AHEAD_MS + 2 * 100);
    expect(stream.stats()).toMatchObject({ droppedMs: 0, emittedMs: 30_000 });
  });

  it('a writer that never waits is bounded by maxBufferMs and overflow, every drop counted', async () => {
    const { wav } = wavOf(30, 23);
    const maxBufferMs = 2000;
    const stream = new TranscriptionStream({ url: slow.url, maxBufferMs });
    const events = collect(stream.readable);
    const writer = stream.writable.getWriter();
    const writes: Array<Promise<void>> = [];
    for (let at = 0; at < wav.length; at += CHUNK) writes.push(writer.write(wav.subarray(at, at + CHUNK)));
    writes.push(writer.close());
    await Promise.all(writes);
    const finals = (await events).filter((e) => e.type === 'final');
    const stats = stream.stats()!;
    expect(stats.droppedMs).toBeGreaterThan(0);
    expect(stats.producedSamples).toBe(stats.emittedSamples + stats.droppedSamples + stats.bufferedSamples);
    expect(stats.producedMs).toBe(30_000);
    // Pushed audio waits in the bounded buffer (the last chunk, taken against demand, beside it).
    expect(stats.peakBufferedMs).toBeLessThanOrEqual(maxBufferMs + 100);
    // The server heard only what was sent: the timeline closes over the drops.
    expect(finals.at(-1)!.endMs).toBeLessThanOrEqual(stats.emittedMs + 5);
  });

  it("with overflow 'error', a writer that never waits gets the typed overflow error on both sides", async () => {
    const { wav } = wavOf(20, 24);
    const stream = new TranscriptionStream({ url: slow.url, maxBufferMs: 1000, overflow: 'error' });
    const events = collect(stream.readable);
    const writer = stream.writable.getWriter();
    const writes: Array<Promise<void>> = [];
    for (let at = 0; at < wav.length; at += CHUNK) writes.push(writer.write(wav.subarray(at, at + CHUNK)));
    const failure = await events.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isTranscriptionError(failure) && failure.kind).toBe('overflow');
    const rejected = await Promise.allSettled(writes);
    expect(rejected.some((r) => r.status === 'rejected' && r.reason === failure)).toBe(true);
  });

  it('a reader that stops holds the writer back: the server is sent no more than the queued events and the window', async () => {
    const { wav, pcm } = wavOf(60, 25);
    const consumedBefore = suite.server.stats().audioBytes;
    const stream = new TranscriptionStream({ url: suite.server.url, readableHighWaterMark: 1 });
    const writer = stream.writable.getWriter();
    let written = 0;
    const writing = (async () => {
      for (let at = 0; at < wav.length; at += CHUNK) {
        await writer.ready;
        await writer.write(wav.subarray(at, at + CHUNK));
        written += CHUNK;
      }
      await writer.close();
    })();
    const heldBytes = await atRest(() => written);
    const consumed = suite.server.stats().audioBytes - consumedBefore;
    expect(heldBytes).toBeLessThan(wav.length / 4);
    expect((heldBytes - consumed) / BYTES_PER_MS).toBeLessThanOrEqual(WINDOW_MS + READ_AHEAD_MS + 2 * 100);
    const events = await collect(stream.readable);
    await writing;
    expect(timedWords(events)).toEqual(expectedTimedWords(pcm));
  });
});
