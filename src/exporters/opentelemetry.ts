import type { Meter } from '@opentelemetry/api';
import type { Subscription } from 'rxjs';
import type { TranscribeOperator } from '../operators/transcribe.js';
import { feedSessions } from './session-feed.js';

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
  let heldBytes = 0;
  meter
    .createObservableGauge(`${p}audio.held`, {
      unit: 'By',
      description: 'Memory the latest session holds for audio it may still send or resend.',
    })
    .addCallback((result) => result.observe(heldBytes));
  const add = (counter: { add(v: number): void }, amount: number): void => {
    if (amount > 0) counter.add(amount);
  };
  return {
    track: (operator) =>
      feedSessions(operator, {
        sessionStarted: () => sessions.add(1),
        activeChanged: (delta) => active.add(delta),
        finalLatency: (seconds) => latency.record(seconds),
        grew: (g) => {
          add(sent, g.sentSeconds);
          add(sentBytes, g.sentBytes);
          add(dropped, g.droppedSeconds);
          add(replayed, g.replayedSeconds);
          add(reconnects, g.reconnects);
        },
        lag: (seconds) => {
          lagSeconds = seconds;
        },
        held: (bytes) => {
          heldBytes = bytes;
        },
      }),
  };
}
