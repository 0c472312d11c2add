import { pairwise, type Subscription, startWith } from 'rxjs';
import type { TranscribeOperator } from '../operators/transcribe.js';
import type { SessionMetrics } from '../session/session-metrics.js';

/** What an exporter records; every exporter reads an operator's sessions the same way. */
export interface SessionFeed {
  /** A session started (its first connection attempt). */
  sessionStarted(): void;
  /** A session became active (+1) or ended (-1). */
  activeChanged(delta: 1 | -1): void;
  /** One final's latency, in seconds. */
  finalLatency(seconds: number): void;
  /** What grew since the last sample (a new session counts from zero), in seconds, bytes and counts. */
  grew(growth: {
    readonly sentSeconds: number;
    readonly sentBytes: number;
    readonly droppedSeconds: number;
    readonly replayedSeconds: number;
    readonly reconnects: number;
  }): void;
  /** Audio sent minus finalised in the latest sample, in seconds. */
  lag(seconds: number): void;
  /** Memory the latest session holds for audio it may still send or resend, in bytes. */
  held(bytes: number): void;
}

/** Feeds what the operator's sessions do to `feed`, until the subscription ends. */
export function feedSessions(operator: TranscribeOperator, feed: SessionFeed): Subscription {
  let isActive = false;
  const subscription = operator.status$.subscribe((status) => {
    if (status.state === 'connecting' && status.attempt === 0 && status.reason === undefined && !isActive) {
      feed.sessionStarted();
    }
    const nowActive = status.state !== 'closed';
    if (nowActive !== isActive) feed.activeChanged(nowActive ? 1 : -1);
    isActive = nowActive;
  });
  subscription.add(operator.finalLatencies$.subscribe((ms) => feed.finalLatency(ms / 1000)));
  subscription.add(
    operator.metrics$
      .pipe(startWith(undefined as SessionMetrics | undefined), pairwise())
      .subscribe(([before, after]) => {
        if (after === undefined) return;
        const from = before?.session === after.session ? before : undefined;
        const growth = (a: number, b: number): number => Math.max(0, b - a);
        feed.grew({
          sentSeconds: growth(from?.audioSentMs ?? 0, after.audioSentMs) / 1000,
          sentBytes: growth(from?.audioSentBytes ?? 0, after.audioSentBytes),
          droppedSeconds: growth(from?.droppedMs ?? 0, after.droppedMs) / 1000,
          replayedSeconds: growth(from?.replayedMs ?? 0, after.replayedMs) / 1000,
          reconnects: growth(from?.reconnects ?? 0, after.reconnects),
        });
        feed.lag(after.serverLagMs / 1000);
        feed.held(after.audioHeldBytes);
      }),
  );
  subscription.add(() => {
    if (isActive) feed.activeChanged(-1);
  });
  return subscription;
}
