import { getEventListeners } from 'node:events';
import { createReadStream, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transcribeFile } from '../../src/doors/transcribe-file.js';
import { transcribeStream } from '../../src/doors/transcribe-stream.js';
import { TranscriptionStream } from '../../src/doors/transcription-stream.js';
import { isTranscriptionError, TranscriptionError } from '../../src/errors/transcription-error.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { syntheticPcm, wavHeader } from '../helpers/audio.js';
import { activeResources, eventually } from '../helpers/resources.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

/** What must come back to where it was: sockets, servers, timers. */
function handles(): Record<string, number> {
  const counts = activeResources();
  return Object.fromEntries(['TCPSocketWrap', 'TCPServerWrap', 'Timeout'].map((n) => [n, counts[n] ?? 0]));
}

// Live-paced (1x), so every door is surely mid-stream when it is stopped.
let live: RunningServer;
beforeAll(async () => {
  live = await startServer({ port: 0, engine: 'synthetic', realtime: 1 });
});
afterAll(() => live.close());

const pcm = syntheticPcm(20, 16000, 31);
const wav = Buffer.concat([wavHeader(pcm.length), pcm]);

/**
 * Runs `start` (which stops its door mid-stream, once the server has heard a
 * second of audio), then checks that the socket closed with 1000 and that no
 * socket, timer or signal listener is left.
 */
async function stopsCleanly(
  start: (controller: AbortController, heard: () => Promise<void>) => Promise<void>,
): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  const before = handles();
  const codesBefore = live.stats().closeCodes[1000] ?? 0;
  const heardBefore = live.stats().audioBytes;
  const controller = new AbortController();
  // Waited for only by the tests that stop on it (the others stop at their first event).
  const heard = () =>
    eventually(() => expect(live.stats().audioBytes - heardBefore).toBeGreaterThan(32_000), 10_000);
  await start(controller, heard);
  await eventually(() => expect(live.stats().closeCodes[1000] ?? 0).toBe(codesBefore + 1));
  await eventually(() => expect(live.stats().sessions).toBe(0));
  await eventually(() => {
    const now = handles();
    for (const [name, count] of Object.entries(now)) expect(count, name).toBeLessThanOrEqual(before[name]!);
  });
  expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
}

describe('stopping a door mid-stream closes the socket with 1000 and leaves nothing behind', () => {
  it('transcribeFile, aborted: rejects with the signal reason', async () => {
    await stopsCleanly(async (controller, heard) => {
      const transcript = transcribeFile(wav, { url: live.url, signal: controller.signal });
      await heard();
      const reason = new Error('enough');
      controller.abort(reason);
      await expect(transcript).rejects.toBe(reason);
    });
  });

  it('transcribeStream, break after the first event', async () => {
    await stopsCleanly(async () => {
      let seen = 0;
      for await (const event of transcribeStream(wav, { url: live.url })) {
        expect(event.type).toBe('final');
        seen += 1;
        break;
      }
      expect(seen).toBe(1);
    });
  });

  it('transcribeStream over a path and over a Node Readable, break: the file is closed too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-doors-fd-'));
    try {
      const path = join(dir, 'live.wav');
      writeFileSync(path, wav);
      for (const source of [() => path, () => createReadStream(path)]) {
        const fdsBefore = openFds();
        await stopsCleanly(async () => {
          for await (const _event of transcribeStream(source(), { url: live.url })) break;
        });
        await eventually(() => expect(openFds()).toBe(fdsBefore));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('transcribeStream, aborted while the loop waits: the loop throws the reason', async () => {
    await stopsCleanly(async (controller, heard) => {
      const loop = (async () => {
        for await (const _event of transcribeStream(wav, { url: live.url, signal: controller.signal })) {
          /* waits for events */
        }
      })();
      await heard();
      const reason = new Error('stop');
      controller.abort(reason);
      await expect(loop).rejects.toBe(reason);
    });
  });

  it('TranscriptionStream, aborted by its signal: both sides error with the reason', async () => {
    await stopsCleanly(async (controller, heard) => {
      const stream = new TranscriptionStream({ url: live.url, signal: controller.signal });
      const reading = stream.readable.getReader().read();
      const piping = new Blob([wav]).stream().pipeTo(stream.writable);
      await heard();
      const reason = new Error('gone');
      controller.abort(reason);
      await expect(piping).rejects.toBe(reason);
      await reading.then(
        () => undefined,
        (error: unknown) => expect(error).toBe(reason),
      );
    });
  });

  it('TranscriptionStream, its readable cancelled', async () => {
    await stopsCleanly(async (_controller, heard) => {
      const stream = new TranscriptionStream({ url: live.url });
      const piping = new Blob([wav]).stream().pipeTo(stream.writable);
      await heard();
      await stream.readable.cancel(new Error('not wanted'));
      await expect(piping).rejects.toThrow('not wanted');
    });
  });

  it('TranscriptionStream, its writable aborted', async () => {
    await stopsCleanly(async (_controller, heard) => {
      const stream = new TranscriptionStream({ url: live.url });
      const writer = stream.writable.getWriter();
      const events = stream.readable.getReader();
      void (async () => {
        for (let at = 0; at < wav.length; at += 3200) {
          await writer.ready;
          await writer.write(wav.subarray(at, at + 3200)).catch(() => {});
        }
      })().catch(() => {});
      await heard();
      await writer.abort(new Error('writer gone'));
      await expect(events.read()).rejects.toThrow('writer gone');
    });
  });
});

describe('failures are the typed TranscriptionError', () => {
  let fast: RunningServer;
  beforeAll(async () => {
    fast = await startServer({ port: 0, engine: 'synthetic' });
  });
  afterAll(() => fast.close());

  it('transcribeFile rejects with it: bytes that are not WAV, a server that is not there', async () => {
    const notWav = new Uint8Array(8000).fill(7);
    const bad = await transcribeFile(notWav, { url: fast.url }).catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(TranscriptionError);
    expect(isTranscriptionError(bad) && bad.kind).toBe('bad-audio');
    const nowhere = await transcribeFile(wav, { url: 'ws://127.0.0.1:9', reconnect: false }).catch(
      (error: unknown) => error,
    );
    expect(isTranscriptionError(nowhere) && nowhere.kind).toBe('network');
  });

  it('transcribeStream throws it from the loop; TranscriptionStream errors its readable with it', async () => {
    const notWav = new Uint8Array(8000).fill(7);
    const seen: TranscriptEvent[] = [];
    const thrown = await (async () => {
      for await (const event of transcribeStream(notWav, { url: fast.url })) seen.push(event);
    })().catch((error: unknown) => error);
    expect(isTranscriptionError(thrown) && thrown.kind).toBe('bad-audio');
    const stream = new TranscriptionStream({ url: fast.url });
    const piping = new Blob([notWav]).stream().pipeTo(stream.writable);
    const read = await stream.readable
      .getReader()
      .read()
      .catch((error: unknown) => error);
    expect(isTranscriptionError(read) && read.kind).toBe('bad-audio');
    await expect(piping).rejects.toBe(read);
  });
});
