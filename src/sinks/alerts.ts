import { Observable, type OperatorFunction } from 'rxjs';
import type { SessionMetrics } from '../session/session-metrics.js';

/** A condition on metrics samples that fires after `samples` samples in a row, and clears the same way. */
export interface AlertRule {
  readonly name: string;
  /** Whether the condition holds in this sample (with the previous one, for rates), and the value seen. */
  readonly check: (
    sample: SessionMetrics,
    previous: SessionMetrics | undefined,
  ) => { holds: boolean; value: number };
  /** Samples in a row before it fires, and before it clears. Default 3. */
  readonly samples?: number;
}

/** An alert firing or clearing, with what was seen. */
export interface AlertEvent {
  readonly type: 'fired' | 'cleared';
  readonly rule: string;
  /** The value in the sample that decided it. */
  readonly value: number;
  /** When that sample was taken (ms since the epoch). */
  readonly at: number;
}

/** Server lag (audio sent minus finalised) over `thresholdMs`. Default 2 s. */
export function lagAlert(thresholdMs = 2000, samples?: number): AlertRule {
  return {
    name: 'server-lag',
    check: (m) => ({ holds: m.serverLagMs > thresholdMs, value: m.serverLagMs }),
    ...(samples !== undefined ? { samples } : {}),
  };
}

/** Any audio dropped since the previous sample. Fires at the first by default. */
export function dropAlert(samples = 1): AlertRule {
  return {
    name: 'audio-dropped',
    check: (m, previous) => {
      const dropped = m.droppedMs - (previous?.droppedMs ?? 0);
      return { holds: dropped > 0, value: dropped };
    },
    samples,
  };
}

/** At least `reconnects` reconnects between two samples. */
export function reconnectStormAlert(reconnects = 3, samples = 1): AlertRule {
  return {
    name: 'reconnect-storm',
    check: (m, previous) => {
      const delta = m.reconnects - (previous?.reconnects ?? 0);
      return { holds: delta >= reconnects, value: delta };
    },
    samples,
  };
}

/** Heap grown by more than `bytes` over the first sample seen. */
export function heapGrowthAlert(bytes = 64 * 1024 * 1024, samples?: number): AlertRule {
  let baseline: number | undefined;
  return {
    name: 'heap-growth',
    check: (m) => {
      if (m.heapUsedBytes === undefined) return { holds: false, value: 0 };
      baseline ??= m.heapUsedBytes;
      const growth = m.heapUsedBytes - baseline;
      return { holds: growth > bytes, value: growth };
    },
    ...(samples !== undefined ? { samples } : {}),
  };
}

/** The rules of docs/observability.md: lag over 2 s, any drop, a reconnect storm, heap growth. */
export function defaultAlertRules(): AlertRule[] {
  return [lagAlert(), dropAlert(), reconnectStormAlert(), heapGrowthAlert()];
}

/**
 * Turns metrics samples into alert events: a rule fires once its condition
 * has held for its number of samples in a row, and clears once it has not
 * held for as many; a value that flaps around the threshold does neither.
 *
 * @example
 * t.metrics$.pipe(alerts(defaultAlertRules())).subscribe((a) => logger.warn(a));
 */
export function alerts(rules: readonly AlertRule[]): OperatorFunction<SessionMetrics, AlertEvent> {
  for (const rule of rules) {
    if (rule.samples !== undefined && !(Number.isInteger(rule.samples) && rule.samples >= 1)) {
      throw new RangeError(`alerts: rule ${rule.name} needs samples of 1 or more, got ${rule.samples}`);
    }
  }
  return (source) =>
    new Observable<AlertEvent>((subscriber) => {
      const state = rules.map(() => ({ firing: false, run: 0 }));
      let previous: SessionMetrics | undefined;
      return source.subscribe({
        next(sample) {
          rules.forEach((rule, i) => {
            const s = state[i]!;
            const { holds, value } = rule.check(sample, previous);
            // Count the samples in a row that disagree with the current state.
            s.run = holds !== s.firing ? s.run + 1 : 0;
            if (s.run >= (rule.samples ?? 3)) {
              s.firing = holds;
              s.run = 0;
              subscriber.next({ type: holds ? 'fired' : 'cleared', rule: rule.name, value, at: sample.at });
            }
          });
          previous = sample;
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
