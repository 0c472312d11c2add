/**
 * Demand for audio, counted in milliseconds, as Reactive Streams counts
 * elements: requests add up, a non-positive request is an error, and nothing
 * here recurses with the number of requests. The requester calls `request`;
 * the producer `consume`s what it hands out and may overshoot by part of a
 * chunk (the debt is paid by the next requests).
 */
export class Demand {
  private outstandingMs = 0;
  private requestedMs = 0;
  private consumedMs = 0;
  private readonly listeners = new Set<() => void>();
  private waiters: Array<() => void> = [];
  private claimedBy: string | undefined;

  /** Milliseconds requested and not yet consumed (negative while in debt). */
  get outstanding(): number {
    return this.outstandingMs;
  }

  /** Adds to the demand; throws a RangeError for a request that is not positive and finite (RS rule 3.9). */
  request(ms: number): void {
    if (!(ms > 0) || !Number.isFinite(ms)) {
      throw new RangeError(`demand must be a positive number of milliseconds, got ${ms}`);
    }
    this.outstandingMs += ms;
    this.requestedMs += ms;
    this.notify();
  }

  /** The producer handed out `ms` of audio. */
  consume(ms: number): void {
    this.outstandingMs -= ms;
    this.consumedMs += ms;
    this.notify();
  }

  /** All ever requested, and all ever consumed, in ms. */
  get requested(): number {
    return this.requestedMs;
  }
  get consumed(): number {
    return this.consumedMs;
  }

  /** Resolves once there is demand (at once if there is). */
  whenDemanded(): Promise<void> {
    if (this.outstandingMs > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Wakes every waiter without demand (on cancellation); they must check why they woke. */
  release(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Calls `listener` after every request and consumption; returns the remover. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Marks this demand as answered by a source; false if another source already answers it. */
  claim(by: string): boolean {
    if (this.claimedBy !== undefined) return false;
    this.claimedBy = by;
    return true;
  }

  /** The source answering this demand, if one claimed it. */
  get claimant(): string | undefined {
    return this.claimedBy;
  }

  private notify(): void {
    if (this.outstandingMs > 0 && this.waiters.length > 0) {
      for (const wake of this.waiters.splice(0)) wake();
    }
    for (const listener of this.listeners) listener();
  }
}

/** Demands that subscriptions made right now, synchronously, are asked to answer. */
const ambient: Demand[] = [];

/**
 * Runs `subscribe` with `demand` as the ambient upstream demand: a source
 * that can wait, subscribed synchronously inside (directly, or through
 * operators that subscribe upstream at once, such as map, tap or toPcm16),
 * claims it and reads only what it asks for.
 */
export function withUpstreamDemand<T>(demand: Demand, subscribe: () => T): T {
  ambient.push(demand);
  try {
    return subscribe();
  } finally {
    ambient.pop();
  }
}

/** For sources, at subscription: the ambient demand to answer, if there is one not yet claimed. */
export function claimUpstreamDemand(by: string): Demand | undefined {
  const demand = ambient.at(-1);
  return demand?.claim(by) ? demand : undefined;
}
