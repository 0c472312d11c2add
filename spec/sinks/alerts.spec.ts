import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { SessionMetrics } from '../../src/session/session-metrics.js';
import { alerts, dropAlert, lagAlert, reconnectStormAlert } from '../../src/sinks/alerts.js';

const base: SessionMetrics = {
  at: 0,
  session: 1,
  state: 'open',
  audioSentMs: 0,
  audioSentBytes: 0,
  framesSent: 0,
  framesInFlight: 0,
  bufferedMs: 0,
  droppedMs: 0,
  replayedMs: 0,
  reconnects: 0,
  trailingBytes: 0,
  breakerState: undefined,
  timeToFirstPartialMs: undefined,
  finalLatency: { count: 0, sumMs: 0, buckets: [], p50Ms: undefined, p99Ms: undefined, maxMs: undefined },
  serverLagMs: 0,
  audioHeldBytes: 0,
  heapUsedBytes: undefined,
  eventLoopDelayMs: undefined,
};
const lag = (serverLagMs: number, at = 0): SessionMetrics => ({ ...base, serverLagMs, at });

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('alerts (marbles)', () => {
  it('fires after its consecutive samples over the threshold, and clears after as many under it', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const samples = cold('abcdefgh|', {
        a: lag(100),
        b: lag(2500),
        c: lag(2600),
        d: lag(2700, 3), // third in a row: fires
        e: lag(100),
        f: lag(100),
        g: lag(90, 6), // third in a row under: clears
        h: lag(100),
      });
      expectObservable(samples.pipe(alerts([lagAlert(2000, 3)]))).toBe('---x--y-|', {
        x: { type: 'fired', rule: 'server-lag', value: 2700, at: 3 },
        y: { type: 'cleared', rule: 'server-lag', value: 90, at: 6 },
      });
    });
  });

  it('does not fire for a value that flaps around the threshold', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const flapping = cold('abababab|', { a: lag(2500), b: lag(1500) });
      expectObservable(flapping.pipe(alerts([lagAlert(2000, 3)]))).toBe('--------|');
    });
  });

  it('fires at the first drop and on a reconnect storm, from the change between samples', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const samples = cold('ab----c---|', {
        a: base,
        b: { ...base, droppedMs: 12.5, reconnects: 4, at: 1 },
        c: { ...base, droppedMs: 12.5, reconnects: 4, at: 2 },
      });
      expectObservable(samples.pipe(alerts([dropAlert(), reconnectStormAlert(3)]))).toBe('-(xy)-(pq)|', {
        x: { type: 'fired', rule: 'audio-dropped', value: 12.5, at: 1 },
        y: { type: 'fired', rule: 'reconnect-storm', value: 4, at: 1 },
        p: { type: 'cleared', rule: 'audio-dropped', value: 0, at: 2 },
        q: { type: 'cleared', rule: 'reconnect-storm', value: 0, at: 2 },
      });
    });
  });
});
