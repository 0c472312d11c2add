import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { TranscribeOperator } from '../operators/transcribe.js';
import { FINAL_LATENCY_BUCKETS_MS } from '../session/session-metrics.js';
import { feedSessions } from './session-feed.js';

/** Options of {@link prometheusSink}. */
export interface PrometheusSinkOptions {
  /** Prefix of every metric name. Default `rxjs_transcribe_`. */
  readonly prefix?: string;
}

/** Where sessions report to Prometheus. */
export interface PrometheusSink {
  /** Reports what this operator's sessions do until the subscription is ended. */
  track(operator: TranscribeOperator): Subscription;
}

/**
 * Client metrics for prom-client, on the user's `Registry` (never the global
 * one, and no default metrics). Names follow Prometheus conventions (seconds,
 * bytes, `_total`); every session adds to the same series, so there are no
 * per-session labels and the label set stays bounded.
 */
export function prometheusSink(registry: Registry, options: PrometheusSinkOptions = {}): PrometheusSink {
  const p = options.prefix ?? 'rxjs_transcribe_';
  const registers = [registry];
  const active = new Gauge({ name: `${p}sessions_active`, help: 'Sessions open or opening now.', registers });
  const sessions = new Counter({ name: `${p}sessions_total`, help: 'Sessions started.', registers });
  const sent = new Counter({
    name: `${p}audio_sent_seconds_total`,
    help: 'Audio sent to the server.',
    registers,
  });
  const sentBytes = new Counter({ name: `${p}audio_sent_bytes_total`, help: 'Audio bytes sent.', registers });
  const dropped = new Counter({
    name: `${p}audio_dropped_seconds_total`,
    help: 'Audio dropped by the overflow policy.',
    registers,
  });
  const replayed = new Counter({
    name: `${p}audio_replayed_seconds_total`,
    help: 'Audio sent again after reconnects.',
    registers,
  });
  const reconnects = new Counter({ name: `${p}reconnects_total`, help: 'Reconnects.', registers });
  const lag = new Gauge({
    name: `${p}server_lag_seconds`,
    help: 'Audio sent minus audio finalised, in the latest sample of the latest session.',
    registers,
  });
  const held = new Gauge({
    name: `${p}audio_held_bytes`,
    help: 'Memory the latest session holds for audio it may still send or resend, in the latest sample.',
    registers,
  });
  const latency = new Histogram({
    name: `${p}final_latency_seconds`,
    help: 'From sending the end of an utterance to receiving its final.',
    buckets: FINAL_LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
    registers,
  });
  const add = (counter: Counter, amount: number): void => {
    if (amount > 0) counter.inc(amount);
  };
  return {
    track: (operator) =>
      feedSessions(operator, {
        sessionStarted: () => sessions.inc(),
        activeChanged: (delta) => active.inc(delta),
        finalLatency: (seconds) => latency.observe(seconds),
        grew: (g) => {
          add(sent, g.sentSeconds);
          add(sentBytes, g.sentBytes);
          add(dropped, g.droppedSeconds);
          add(replayed, g.replayedSeconds);
          add(reconnects, g.reconnects);
        },
        lag: (seconds) => lag.set(seconds),
        held: (bytes) => held.set(bytes),
      }),
  };
}
