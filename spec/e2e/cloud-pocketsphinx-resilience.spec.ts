import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wordErrorRate } from '../../src/cli/word-error-rate.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { assemblyai } from '../../src/protocols/assemblyai.js';
import { openaiRealtime } from '../../src/protocols/openai-realtime.js';
import type { TranscriptionProtocol } from '../../src/protocols/protocol.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { fromFile } from '../../src/sources/from-file.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { librivoxFiles } from '../helpers/audio.js';
import { faultProxy } from '../helpers/fault-proxy.js';

/**
 * The cloud protocols' resilience with a real recogniser: a LibriVox recording through the
 * emulators (PocketSphinx), the connection reset every 3 s of new audio, against the same
 * file fault-free. Both are paced at real time (AssemblyAI must be; OpenAI with `pace`), so
 * one short recording each. The synthetic suites (assemblyai-resilience, openai-resilience)
 * check the same exactly; here the check is the recogniser's: within 5% WER of the clean run.
 */

const FAST_RETRY = { initialDelayMs: 5, maxDelayMs: 50, maxRetries: 10 } as const;

let ps: RunningServer;
beforeAll(async () => {
  ps = await startServer({ port: 0, engine: 'pocketsphinx' });
});
afterAll(async () => {
  await ps?.close();
});

const text = (events: TranscriptEvent[]): string =>
  events
    .filter((e) => e.type === 'final')
    .map((e) => e.text)
    .join(' ');

const cases: Array<{
  name: string;
  protocol: (baseUrl: string) => TranscriptionProtocol;
  /** Bytes on the wire for a second of audio: raw 16 kHz PCM, or 24 kHz in base64 JSON. */
  wireBytesPerSecond: number;
}> = [
  {
    name: 'AssemblyAI',
    protocol: (baseUrl) => assemblyai({ baseUrl, apiKey: 'k' }),
    wireBytesPerSecond: 32_000,
  },
  {
    name: 'OpenAI Realtime',
    protocol: (baseUrl) => openaiRealtime({ baseUrl, apiKey: 'k', pace: true }),
    wireBytesPerSecond: (24_000 * 2 * 4) / 3,
  },
];

describe.each(cases)(
  '$name with pocketsphinx: a reset every 3 s of audio',
  ({ protocol, wireBytesPerSecond }) => {
    it('within 5% WER of the fault-free run, every final on one timeline', async () => {
      const file = librivoxFiles().find((path) => path.endsWith('0870.wav'))!;
      const clean = text(
        await lastValueFrom(fromFile(file).pipe(transcribe({ protocol: protocol(ps.url) }), toArray())),
      );
      expect(clean.split(' ').length).toBeGreaterThan(10);
      const proxy = await faultProxy(ps.port);
      try {
        const t = transcribe({ protocol: protocol(proxy.url), reconnect: FAST_RETRY });
        // Each connection first carries what the last left unfinalised, then 3 s more.
        proxy.setPlan(() => ({
          resetAfterBytes:
            4000 +
            ((t.stats()?.unfinalisedMs ?? 0) / 1000) * wireBytesPerSecond * 1.01 +
            3 * wireBytesPerSecond,
        }));
        const events = await lastValueFrom(fromFile(file).pipe(t, toArray()));
        expect(t.stats()!.reconnects).toBeGreaterThanOrEqual(1);
        expect(t.stats()!.replayDroppedMs).toBe(0);
        const finals = events.filter((e) => e.type === 'final');
        for (let i = 1; i < finals.length; i++)
          expect(finals[i]!.startMs).toBeGreaterThanOrEqual(finals[i - 1]!.endMs);
        const { rate } = wordErrorRate(clean, text(events));
        expect(rate, `clean "${clean}"\nfaulty "${text(events)}"`).toBeLessThanOrEqual(0.05);
      } finally {
        await proxy.close();
      }
    }, 90_000);
  },
);
