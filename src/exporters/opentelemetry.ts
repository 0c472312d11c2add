import type { Meter } from '@opentelemetry/api';
import { pairwise, type Subscription, startWith } from 'rxjs';
import type { TranscribeOperator } from '../operators/transcribe.js';
import type { SessionMetrics } from '../session/session-metrics.js';

/** Options of {@link openTelemetrySink}. */
export interface OpenTelemetrySinkOptions {
  /** Prefix of every instrument name. Default `rxjs_transcribe.`. */
  readonly prefix?: string;
}

/** Where sessions report to OpenTelemetry. */
export interface OpenTelemetrySink {
  /** Reports what this operator's sessions do until the subscription is ended. */
  track(operator: TranscribeOperator): Subscription;
}

/**
 * Client metrics as OpenTelemetry instruments on the user's `Meter` (from
 * `@opentelemetry/api`, an optional peer dependency): the same series as the
 * Prometheus sink, in seconds and bytes, with no per-session attributes.
 */
export function openTelemetrySink(meter: Meter, options: OpenTelemetrySinkOptions = {}): OpenTelemetrySink {
  const p = options.prefix ?? 'rxjs_transcribe.';
  const active = meter.createUpDownCounter(`${p}sessions.active`, {
    description: 'Sessions open or opening now.',
  });
  const sessions = meter.createCounter(`${p}sessions`, { description: 'Sessions started.' });
  const sent = meter.createCounter(`${p}audio.sent`, { unit: 's', description: 'Audio sent to the server.' });
  const sentBytes = meter.createCounter(`${p}audio.sent.bytes`, {
    unit: 'By',
    description: 'Audio bytes sent.',
  });
  const dropped = meter.createCounter(`${p}audio.dropped`, {
    unit: 's',
    description: 'Audio dropped by overflow.',
  });
  const replayed = meter.createCounter(`${p}audio.replayed`, { unit: 's', description: 'Audio sent again.' });
  const reconnects = meter.createCounter(`${p}reconnects`, { description: 'Reconnects.' });
  const latency = meter.createHistogram(`${p}final.latency`, {
    unit: 's',
    description: 'From sending the end of an utterance to receiving its final.',
  });
  let lagSeconds = 0;
  meter
    .createObservableGauge(`${p}server.lag`, { unit: 's', description: 'Audio sent minus audio finalised.' })
    .addCallback((result) => result.observe(lagSeconds));
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
          sessions.add(1);
        }
        const nowActive = status.state !== 'closed';
        if (nowActive !== isActive) active.add(nowActive ? 1 : -1);
        isActive = nowActive;
      });
      subscription.add(operator.finalLatencies$.subscribe((ms) => latency.record(ms / 1000)));
      subscription.add(
        operator.metrics$
          .pipe(startWith(undefined as SessionMetrics | undefined), pairwise())
          .subscribe(([before, after]) => {
            if (after === undefined) return;
            const from = before?.session === after.session ? before : undefined;
            const add = (counter: { add(v: number): void }, a: number, b: number, scale: number): void => {
              if (b > a) counter.add((b - a) / scale);
            };
            add(sent, from?.audioSentMs ?? 0, after.audioSentMs, 1000);
            add(sentBytes, from?.audioSentBytes ?? 0, after.audioSentBytes, 1);
            add(dropped, from?.droppedMs ?? 0, after.droppedMs, 1000);
            add(replayed, from?.replayedMs ?? 0, after.replayedMs, 1000);
            add(reconnects, from?.reconnects ?? 0, after.reconnects, 1);
            lagSeconds = after.serverLagMs / 1000;
          }),
      );
      subscription.add(() => {
        if (isActive) active.add(-1);
      });
      return subscription;
    },
  };
}
