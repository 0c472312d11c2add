import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { type TranscriptionSessionHandle, transcribe } from '../../src/operators/transcribe.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { expectedSyntheticWords, syntheticPcm } from '../helpers/audio.js';

/**
 * `handle.flush()` on the Vosk protocol: `{"reset" : 1}`, answered by the final for the audio
 * so far while the session goes on. Its reply is counted among the frames' replies, so the
 * session neither takes it for an extra reply nor completes early.
 */

const FORMAT: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ port: 0, engine: 'synthetic' });
});
afterAll(async () => {
  await server?.close();
});

function chunkOf(pcm: Buffer): AudioChunk {
  return {
    format: FORMAT,
    samples: new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length)),
  };
}

describe('vosk() flush: {"reset" : 1} mid-stream', () => {
  it('finalises the audio so far at once, then the stream goes on to its end, every word once', async () => {
    const first = syntheticPcm(2.5, 16000, 7);
    const second = syntheticPcm(2, 16000, 8);
    const audio = new Subject<AudioChunk>();
    const t = transcribe({ url: server.url });
    let handle: TranscriptionSessionHandle | undefined;
    t.sessions$.subscribe((h) => {
      handle = h;
    });
    let flushed: boolean | undefined;
    const events = await new Promise<TranscriptEvent[]>((resolve, reject) => {
      const seen: TranscriptEvent[] = [];
      t(audio).subscribe({
        next: (event) => {
          seen.push(event);
          // Once 2 s of the first part are final, what is left of it (half a second) is only
          // heard: the flush finalises it, and only then does more audio come.
          if (flushed === undefined && event.type === 'final' && event.endMs >= 2000) {
            flushed = handle!.flush();
            setTimeout(() => {
              audio.next(chunkOf(second));
              audio.complete();
            }, 300);
          }
        },
        error: reject,
        complete: () => resolve(seen),
      });
      audio.next(chunkOf(first));
    });
    expect(flushed).toBe(true);
    const finals = events.filter((e) => e.type === 'final');
    // The reset's final ends the first part (2.5 s), though no more audio had come then.
    expect(finals.some((e) => e.endMs === 2500)).toBe(true);
    for (let i = 1; i < finals.length; i++)
      expect(finals[i]!.startMs).toBeGreaterThanOrEqual(finals[i - 1]!.endMs);
    expect(finals.at(-1)!.endMs).toBe(4500);
    // The synthetic engine names each second it heard; a reset ends a second early.
    const words = finals.flatMap((e) => e.words.map((w) => w.text));
    expect(words.slice(0, 2)).toEqual(
      expectedSyntheticWords(first)
        .slice(0, 2)
        .map((w) => w.word),
    );
    expect(words).toHaveLength(new Set(words).size);
    expect(t.stats()!.reconnects).toBe(0);
  });
});
