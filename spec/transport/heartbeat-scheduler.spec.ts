import type { AddressInfo } from 'node:net';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { TranscriptionError } from '../../src/errors/transcription-error.js';
import { connect } from '../../src/transport/websocket-connection.js';

describe("the Node driver's heartbeat", () => {
  it('runs on the scheduler it is given: virtual time finds a connection dead, no wall time passing', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const scheduler = new VirtualTimeScheduler(undefined, 10_000);
    try {
      const failed = await new Promise<TranscriptionError>((resolve, reject) => {
        const subscription = connect({
          url,
          heartbeat: { intervalMs: 50, timeoutMs: 100 },
          scheduler,
        }).subscribe({
          // Open, and nothing has arrived: 100 ms of virtual time pass at once, before any pong could.
          next: (event) => {
            if (event.type === 'open') scheduler.flush();
          },
          error: (error: TranscriptionError) => resolve(error),
          complete: () => reject(new Error('completed')),
        });
        setTimeout(() => {
          subscription.unsubscribe();
          reject(new Error('the heartbeat did not run on the virtual clock'));
        }, 2000);
      });
      expect(failed).toMatchObject({ kind: 'timeout', retryable: true });
      expect(failed.message).toMatch(/no answer to ping for 100 ms/);
      expect(scheduler.now()).toBeGreaterThanOrEqual(100);
      expect(scheduler.now()).toBeLessThan(200);
    } finally {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
  });
});
