import { describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/start-server.js';
import { expectedSyntheticWords, syntheticPcm } from '../helpers/audio.js';
import { CONFIG_16K, chunk, EOF, finalWords, runClient } from '../helpers/vosk-client.js';

describe('real-time pacing', () => {
  it('takes about 10 s for 10 s of audio sent as fast as the client can, at 1x', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic', realtime: true });
    try {
      const pcm = syntheticPcm(10);
      const run = await runClient(server.url, [CONFIG_16K, ...chunk(pcm, 3200), EOF]);
      expect(run.closeCode).toBe(1000);
      expect(finalWords(run).map((w) => w.word)).toEqual(expectedSyntheticWords(pcm).map((w) => w.word));
      // Never faster than a live source could send it (its last 100 ms frame comes 9.9 s after
      // its first); the upper bound only catches a stuck server.
      expect(run.elapsedMs).toBeGreaterThanOrEqual(9_850);
      expect(run.elapsedMs).toBeLessThan(20_000);
    } finally {
      await server.close();
    }
  });

  it('stops reading the socket while it waits, so its memory does not grow with what the client sent', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic', realtime: 200 });
    try {
      // 10 minutes, 19.2 MB: more than loopback's kernel buffers hold. Consumed over 3 s at 200x.
      const pcm = syntheticPcm(600);
      let peakClientBuffered = 0;
      const run = await runClient(server.url, [CONFIG_16K, ...chunk(pcm, 3200), EOF], {
        onOpen: (socket) => {
          const timer = setInterval(() => {
            peakClientBuffered = Math.max(peakClientBuffered, socket.bufferedAmount);
          }, 10);
          socket.on('close', () => clearInterval(timer));
        },
      });
      expect(run.closeCode).toBe(1000);
      expect(finalWords(run).map((w) => w.word)).toEqual(expectedSyntheticWords(pcm).map((w) => w.word));
      expect(run.elapsedMs).toBeGreaterThanOrEqual(2_950);
      // The backlog stayed with the client (TCP backpressure) ...
      expect(peakClientBuffered).toBeGreaterThan(pcm.length / 4);
      // ... while the server held a bounded few frames, not the 19.2 MB.
      const { peakQueuedBytes, audioBytes } = server.stats();
      expect(audioBytes).toBe(pcm.length);
      expect(peakQueuedBytes).toBeLessThan(256 * 1024);
    } finally {
      await server.close();
    }
  });
});
