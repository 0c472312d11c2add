/**
 * Demand for audio, counted in milliseconds, as Reactive Streams counts
 * elements: requests add up, a non-positive request is an error, and nothing
 * here recurses with the number of requests. The requester calls `request`;
 * a producer hands out audio against it (`handOut`) and may overshoot by part
 * of a chunk (the debt is paid by the next requests). Several producers may
 * answer one demand, one after another (`concat`) or at once (`merge`).
 */
export class Demand {
  private outstandingMs = 0;
  private requestedMs = 0;
  private consumedMs = 0;
  private claimCount = 0;
  private handingOut = 0;
  private heldMs = 0;
  private readonly listeners = new Set<() => void>();
  private waiters: Array<() => void> = [];

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

  /** A producer handed out `ms` of audio (counted before it is delivered: see `handOut`). */
  consume(ms: number): void {
    this.outstandingMs -= ms;
    this.consumedMs += ms;
    this.notify();
  }

  /**
   * Counts `ms` as consumed, then runs `deliver` (the producer's `next`): while it
   * runs, {@link delivering} is true, so the requester can tell audio on its way
   * from audio an operator in between dropped.
   */
  handOut<T>(ms: number, deliver: (value: T) => void, value: T): void {
    this.handingOut += 1;
    try {
      this.consume(ms);
      deliver(value);
    } finally {
      this.handingOut -= 1;
      this.notify();
    }
  }

  /** True while a producer is delivering audio it has just counted. */
  get delivering(): boolean {
    return this.handingOut > 0;
  }

  /**
   * An operator between the producer and the requester holds `ms` of audio it
   * was handed (a positive count when it takes it, a negative one when it
   * passes it on or drops it): `paced` holds a file's audio until its time.
   * Held audio is on its way, not lost, so the requester does not write it off
   * and ask for more (which would read a file far ahead of the operator).
   */
  hold(ms: number): void {
    this.heldMs = Math.max(0, this.heldMs + ms);
  }

  /** Audio operators in between say they hold, in ms. */
  get held(): number {
    return this.heldMs;
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

  /** Calls `listener` after every request, consumption and claim; returns the remover. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A producer starts answering this demand; call the function returned when it stops (once). */
  claim(): () => void {
    this.claimCount += 1;
    let released = false;
    this.notify();
    return () => {
      if (released) return;
      released = true;
      this.claimCount -= 1;
      this.notify();
    };
  }

  /** How many producers answer this demand now. */
  get claims(): number {
    return this.claimCount;
  }

  private notify(): void {
    if (this.outstandingMs > 0 && this.waiters.length > 0) {
      for (const wake of this.waiters.splice(0)) wake();
    }
    // forEach rather than for-of: no iterator object per notification.
    this.listeners.forEach(callListener);
  }
}

function callListener(listener: () => void): void {
  listener();
}
