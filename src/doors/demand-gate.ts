import { Observable } from 'rxjs';
import { type AudioChunk, frameCount, framesToMs } from '../audio/audio-format.js';
import { Demand } from '../flow/demand.js';
import { findUpstreamLink, withUpstreamLink } from '../flow/upstream-link.js';

/**
 * A switch between a session's demand and the sources that can wait under it:
 * open, the session's requests reach them as they are made; shut, they read
 * nothing more than was asked before (at most the window and the read-ahead).
 * The doors shut it while their consumer lags, so a slow consumer slows the
 * reading instead of growing a queue of events.
 */
export class DemandGate {
  private isOpen = true;
  private readonly listeners = new Set<() => void>();

  /** Whether the session's requests pass now. */
  get open(): boolean {
    return this.isOpen;
  }

  /** Opens or shuts it; opening passes on what was asked meanwhile. */
  set(open: boolean): void {
    if (open === this.isOpen) return;
    this.isOpen = open;
    for (const listener of this.listeners) listener();
  }

  /** @internal */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * `source` behind `gate`: subscribed under flow control (by `transcribe`), it
 * relays the consumer's demand to the sources inside that can wait, while the
 * gate is open. What they hand out is counted on the consumer's demand as they
 * deliver it, so flow control tells it from pushed audio; audio pushed by
 * sources that cannot wait passes at once (into the session's bounded buffer).
 */
export function gated(source: Observable<AudioChunk>, gate: DemandGate): Observable<AudioChunk> {
  return new Observable<AudioChunk>((subscriber) => {
    const outer = findUpstreamLink(subscriber);
    if (outer === undefined) return source.subscribe(subscriber);
    const inner = new Demand();
    // Claimed on the outside while a source inside claims (so pushed audio is not taken for pulled).
    let claim: (() => void) | undefined;
    let heldMs = 0;
    let syncing = false;
    let again = false;
    // Each step notifies, which calls this again: a re-entrant call joins the running loop.
    const sync = (): void => {
      if (syncing) {
        again = true;
        return;
      }
      syncing = true;
      try {
        do {
          again = false;
          step();
        } while (again);
      } finally {
        syncing = false;
      }
    };
    const step = (): void => {
      if (inner.claims > 0 && claim === undefined) {
        claim = outer.demand.claim();
        return;
      }
      if (inner.claims === 0 && claim !== undefined) {
        const release = claim;
        claim = undefined;
        release();
        return;
      }
      // An operator inside holding audio (paced) says so to the consumer's flow control too.
      if (inner.held !== heldMs) {
        outer.demand.hold(inner.held - heldMs);
        heldMs = inner.held;
      }
      // Requests add up: the inside gets what the outside asked in all, while the gate is open.
      const owed = outer.demand.requested - inner.requested;
      if (gate.open && owed > 0 && Number.isFinite(owed)) inner.request(owed);
    };
    const offOuter = outer.demand.onChange(sync);
    const offInner = inner.onChange(sync);
    const offGate = gate.onChange(sync);
    const deliver = (chunk: AudioChunk): void => subscriber.next(chunk);
    const subscription = withUpstreamLink(source, {
      demand: inner,
      notice: (notice) => outer.notice(notice),
    }).subscribe({
      next: (chunk) => {
        if (inner.delivering) {
          outer.demand.handOut(framesToMs(frameCount(chunk), chunk.format.sampleRate), deliver, chunk);
        } else subscriber.next(chunk);
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    sync();
    return () => {
      offOuter();
      offInner();
      offGate();
      subscription.unsubscribe();
      inner.release();
      claim?.();
      if (heldMs > 0) outer.demand.hold(-heldMs);
    };
  });
}
