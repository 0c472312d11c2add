import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { pairwise, type Subscription, startWith } from 'rxjs';
import type { TranscribeOperator } from '../operators/transcribe.js';
import { FINAL_LATENCY_BUCKETS_MS, type SessionMetrics } from '../session/session-metrics.js';

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
  const latency = new Histogram({
    name: `${p}final_latency_seconds`,
    help: 'From sending the end of an utterance to receiving its final.',
    buckets: FINAL_LATENCY_BUCKETS_MS.map((ms) => ms / 1000),
    registers,
  });
  const delta = (counter: Counter, before: number, after: number, scale: number): void => {
    if (after > before) counter.inc((after - before) / scale);
  };
  return {
    track(operator) {
      let isActive = false;
      const subscription = operator.status$.subscribe((status) => {
        if (
          status.state === 'connecting' &&
          status.attempt === 0 &&
          status.reason === undefined &&
          !isActive
        ) {
          sessions.inc();
        }
        const nowActive = status.state !== 'closed';
        if (nowActive !== isActive) active.inc(nowActive ? 1 : -1);
        isActive = nowActive;
      });
      subscription.add(operator.finalLatencies$.subscribe((ms) => latency.observe(ms / 1000)));
      subscription.add(
        operator.metrics$
          .pipe(startWith(undefined as SessionMetrics | undefined), pairwise())
          .subscribe(([before, after]) => {
            if (after === undefined) return;
            // A new session starts from zero: count its values from zero.
            const from = before?.session === after.session ? before : undefined;
            delta(sent, from?.audioSentMs ?? 0, after.audioSentMs, 1000);
            delta(sentBytes, from?.audioSentBytes ?? 0, after.audioSentBytes, 1);
            delta(dropped, from?.droppedMs ?? 0, after.droppedMs, 1000);
            delta(replayed, from?.replayedMs ?? 0, after.replayedMs, 1000);
            delta(reconnects, from?.reconnects ?? 0, after.reconnects, 1);
            lag.set(after.serverLagMs / 1000);
          }),
      );
      subscription.add(() => {
        if (isActive) active.dec();
      });
      return subscription;
    },
  };
}
