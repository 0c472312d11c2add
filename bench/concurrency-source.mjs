// The real-time audio sources of the concurrency benchmark, shared by both
// clients so that only the client differs: one clock drives every session's
// source, frame k of a session falling due at `phase + k * frameMs` on it, and
// a ring per session remembers each frame's due time until the client sends
// it (frames leave in order, so a FIFO is enough).
import { performance } from 'node:perf_hooks';

export const FRAME_MS = 100;
/** 100 ms of 16 kHz mono 16-bit. */
export const FRAME_BYTES = 3200;

/**
 * `count` distinct frames of quiet noise (xorshift32 from a fixed seed) in one
 * ArrayBuffer: the sources hand out views of these, so the source allocates
 * nothing per frame, for either client.
 */
export function noiseFrames(count) {
  const pcm = new Int16Array((count * FRAME_BYTES) / 2);
  let state = 0x2545f491;
  for (let i = 0; i < pcm.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    pcm[i] = (state & 0x3fff) - 0x2000;
  }
  return pcm.buffer;
}

/**
 * One timer for every session: slots of 1 ms over the 100 ms frame period,
 * each holding the sessions whose phase falls in it. Each tick (a 1 ms
 * setTimeout, so when the event loop gets to it) emits every frame now due,
 * catching up on all frames a late tick missed; how late each left is the
 * client's to measure.
 */
export class FrameClock {
  constructor(frameMs = FRAME_MS) {
    this.frameMs = frameMs;
    this.slots = Array.from({ length: frameMs }, () => []);
    this.base = performance.now();
    /** The slot being worked through, as an absolute slot count from `base`. */
    this.cursor = 0;
    this.timer = undefined;
    this.emitLateness = undefined;
    /** Every frame due before this has been emitted. */
    this.emittedUpTo = this.base;
  }

  /**
   * Adds a source with its phase (ms into the period); `emit(k, due)` is
   * called for frame k from the next due time on. Returns a handle for remove().
   */
  add(phaseMs, emit) {
    const now = performance.now();
    const periods = Math.ceil((now - this.base - phaseMs) / this.frameMs);
    const record = {
      nextDue: this.base + phaseMs + Math.max(0, periods) * this.frameMs,
      k: 0,
      emit,
      active: true,
    };
    this.slots[Math.floor(phaseMs) % this.frameMs].push(record);
    return record;
  }

  remove(record) {
    record.active = false;
  }

  start() {
    const tick = () => {
      this.tick(performance.now());
      this.timer = setTimeout(tick, 1);
    };
    this.timer = setTimeout(tick, 1);
  }

  stop() {
    clearTimeout(this.timer);
    for (const slot of this.slots) slot.length = 0;
  }

  /** Emits every frame due by `now`, slot by slot in time order. */
  tick(now) {
    for (;;) {
      const slotStart = this.base + this.cursor;
      this.emittedUpTo = slotStart;
      if (slotStart > now) return;
      for (const record of this.slots[this.cursor % this.frameMs]) {
        while (record.active && record.nextDue <= now) {
          const due = record.nextDue;
          record.nextDue += this.frameMs;
          this.emitLateness?.(now - due, due);
          record.emit(record.k++, due);
        }
      }
      // A slot only partly due is looked at again on the next tick.
      if (slotStart + 1 > now) return;
      this.cursor += 1;
    }
  }
}

/**
 * The due times of frames emitted and not yet sent, a ring per session in one
 * preallocated array (so it is in the memory baseline, not per session; 400
 * frames: 40 s, more than a session may wait for its handshake), and the
 * lateness of every frame due inside the measured window.
 */
export class LatenessRecorder {
  constructor(sessions, windowFrames, ringFrames = 400) {
    this.ringFrames = ringFrames;
    this.due = new Float64Array(sessions * ringFrames);
    this.head = new Uint32Array(sessions);
    this.tail = new Uint32Array(sessions);
    this.dueInWindow = new Uint32Array(sessions);
    this.sentInWindow = new Uint32Array(sessions);
    this.lateness = new Float64Array(windowFrames);
    /** Which session and due time each lateness is of, for --dump. */
    this.sessionOf = new Uint32Array(windowFrames);
    this.dueOf = new Float64Array(windowFrames);
    this.count = 0;
    this.windowStart = Number.POSITIVE_INFINITY;
    this.windowEnd = Number.POSITIVE_INFINITY;
    this.overflows = 0;
    this.unmatched = 0;
    this.lastSentAt = 0;
  }

  /** Frame of `session` due at `due` was emitted by its source. */
  emitted(session, due) {
    if (this.tail[session] - this.head[session] >= this.ringFrames) {
      this.overflows += 1; // more than ringFrames waiting: lateness of this session is lost
      return;
    }
    this.due[session * this.ringFrames + (this.tail[session] % this.ringFrames)] = due;
    this.tail[session] += 1;
    if (due >= this.windowStart && due < this.windowEnd) this.dueInWindow[session] += 1;
  }

  /** The client called its socket's send for the next frame of `session`. */
  sent(session) {
    if (this.head[session] === this.tail[session]) {
      this.unmatched += 1; // a frame sent that the source never emitted: re-framed or resent
      return;
    }
    const due = this.due[session * this.ringFrames + (this.head[session] % this.ringFrames)];
    this.head[session] += 1;
    if (due >= this.windowStart && due < this.windowEnd) {
      const now = performance.now();
      this.sentInWindow[session] += 1;
      if (this.count < this.lateness.length) {
        this.sessionOf[this.count] = session;
        this.dueOf[this.count] = due;
        this.lateness[this.count++] = now - due;
      }
      this.lastSentAt = now;
    }
  }

  /** Frames due in the window and not sent yet. */
  unsent() {
    let missing = 0;
    for (let i = 0; i < this.dueInWindow.length; i++) missing += this.dueInWindow[i] - this.sentInWindow[i];
    return missing;
  }

  /** Sessions that did not send every frame due in the window. */
  sessionsShort() {
    let short = 0;
    for (let i = 0; i < this.dueInWindow.length; i++) {
      if (this.sentInWindow[i] !== this.dueInWindow[i] || this.dueInWindow[i] === 0) short += 1;
    }
    return short;
  }
}

/** Percentiles (nearest rank) of `values` in ms, sorted in place; unsent frames count as `missingMs`. */
export function latencySummary(values, missing = 0, missingMs = Number.POSITIVE_INFINITY) {
  const sorted = values.sort();
  const total = sorted.length + missing;
  const at = (q) => {
    if (total === 0) return null;
    const rank = Math.min(total, Math.max(1, Math.ceil(q * total))) - 1;
    return rank < sorted.length ? round(sorted[rank]) : round(missingMs);
  };
  return {
    frames: total,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: missing > 0 ? round(missingMs) : total === 0 ? null : round(sorted[sorted.length - 1]),
  };
}

const round = (ms) => (Number.isFinite(ms) ? Math.round(ms * 100) / 100 : ms);
