import type { Subscription } from 'rxjs';
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
  /** Audio sent minus finalised, the most of any running session, in seconds. */
  lag(seconds: number): void;
  /** Memory the running sessions hold for audio they may still send or resend, in bytes, all together. */
  held(bytes: number): void;
}

/** Sessions whose latest sample is kept to count growth from (the oldest closed ones go first). */
const KEPT_SESSIONS = 1024;

/**
 * Feeds what the operator's sessions do to `feed`, until the subscription
 * ends. Sessions may run at once (one per subscription): each is followed by
 * its id, growth is counted per session, the lag is the largest and the held
 * memory the sum over the sessions running.
 */
export function feedSessions(operator: TranscribeOperator, feed: SessionFeed): Subscription {
  const active = new Set<number>();
  const subscription = operator.status$.subscribe((status) => {
    const known = active.has(status.session);
    if (status.state === 'closed') {
      if (known) {
        active.delete(status.session);
        feed.activeChanged(-1);
      }
      return;
    }
    if (!known) {
      // A status replayed from before this subscription may be of a session already under way.
      if (status.state === 'connecting' && status.attempt === 0 && status.reason === undefined) {
        feed.sessionStarted();
      }
      active.add(status.session);
      feed.activeChanged(1);
    }
  });
  subscription.add(operator.finalLatencies$.subscribe((ms) => feed.finalLatency(ms / 1000)));
  const latest = new Map<number, SessionMetrics>();
  subscription.add(
    operator.metrics$.subscribe((after) => {
      const before = latest.get(after.session);
      const growth = (a: number, b: number): number => Math.max(0, b - a);
      feed.grew({
        sentSeconds: growth(before?.audioSentMs ?? 0, after.audioSentMs) / 1000,
        sentBytes: growth(before?.audioSentBytes ?? 0, after.audioSentBytes),
        droppedSeconds: growth(before?.droppedMs ?? 0, after.droppedMs) / 1000,
        replayedSeconds: growth(before?.replayedMs ?? 0, after.replayedMs) / 1000,
        reconnects: growth(before?.reconnects ?? 0, after.reconnects),
      });
      // Kept once closed too (metrics$ samples the latest session as it ended), the newest last.
      latest.delete(after.session);
      latest.set(after.session, after);
      if (latest.size > KEPT_SESSIONS) latest.delete(latest.keys().next().value!);
      let lagMs = 0;
      let heldBytes = 0;
      for (const sample of latest.values()) {
        if (sample.state === 'closed') continue;
        lagMs = Math.max(lagMs, sample.serverLagMs);
        heldBytes += sample.audioHeldBytes;
      }
      feed.lag(lagMs / 1000);
      feed.held(heldBytes);
    }),
  );
  subscription.add(() => {
    for (const _ of active) feed.activeChanged(-1);
    active.clear();
  });
  return subscription;
}
