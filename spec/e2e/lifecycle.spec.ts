import { readdirSync } from 'node:fs';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paced } from '../../src/operators/paced.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { fromFile } from '../../src/sources/from-file.js';
import { activeResources, eventually } from '../helpers/resources.js';

const SAMPLE = new URL('../../samples/sense-and-sensibility-0870.wav', import.meta.url).pathname;
const openFds = (): number => readdirSync('/proc/self/fd').length;

/** What must come back to where it was: sockets, servers, timers, child processes. */
function handles(): Record<string, number> {
  const counts = activeResources();
  return Object.fromEntries(
    ['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'ProcessWrap'].map((name) => [name, counts[name] ?? 0]),
  );
}

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ port: 0, engine: 'synthetic' });
});
afterAll(() => server.close());

describe('lifecycle', () => {
  it('closes the socket with 1000 and the file on unsubscribe mid-stream, leaving nothing behind', async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const fdsBefore = openFds();
    const before = handles();
    const listenersBefore = process.listenerCount('exit') + process.listenerCount('SIGINT');
    const codesBefore = server.stats().closeCodes[1000] ?? 0;

    // Paced as live audio, so the stream is surely mid-way when the test unsubscribes.
    const subscription = fromFile(SAMPLE, { chunkBytes: 3200 })
      .pipe(paced({ factor: 1 }), transcribe({ url: server.url }))
      .subscribe();
    await eventually(() => expect(server.stats().audioBytes).toBeGreaterThan(32000), 10_000);
    expect(openFds()).toBeGreaterThan(fdsBefore); // the file and the socket are open
    subscription.unsubscribe();

    await eventually(() => expect(server.stats().closeCodes[1000] ?? 0).toBe(codesBefore + 1));
    await eventually(() => expect(openFds()).toBe(fdsBefore));
    // No more of each than before (a timer of the test runner's may have ended meanwhile).
    await eventually(() => {
      const now = handles();
      for (const [name, count] of Object.entries(now)) expect(count, name).toBeLessThanOrEqual(before[name]!);
    });
    expect(process.listenerCount('exit') + process.listenerCount('SIGINT')).toBe(listenersBefore);
    expect(server.stats().sessions).toBe(0);
  });

  it('completes after the final and closes everything, each time, over many sessions', async () => {
    const fast = await startServer({ port: 0, engine: 'synthetic' });
    try {
      const fdsBefore = openFds();
      for (let i = 0; i < 20; i++) {
        const events = await lastValueFrom(fromFile(SAMPLE).pipe(transcribe({ url: fast.url }), toArray()));
        expect(events.filter((e) => e.type === 'final').length).toBe(8); // 7.1 s: 7 full seconds and a rest
      }
      await eventually(() => expect(openFds()).toBe(fdsBefore));
      await eventually(() => expect(fast.stats().sessions).toBe(0));
    } finally {
      await fast.close();
    }
  });

  it('reads nothing and connects nowhere before subscription', async () => {
    const before = server.stats().sessionsTotal;
    const fdsBefore = openFds();
    const pipeline = fromFile(SAMPLE).pipe(transcribe({ url: server.url }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.stats().sessionsTotal).toBe(before);
    expect(openFds()).toBe(fdsBefore);
    const first = await firstValueFrom(pipeline); // subscribing starts it; taking one ends it
    expect(first.type).toBe('final');
    await eventually(() => expect(openFds()).toBe(fdsBefore));
  });
});
