import { type AudioChunk, framesToMs } from '../audio/audio-format.js';
import { FrameStore } from './frame-store.js';

/**
 * Every frame of a session, by sequence number, until it is neither awaiting
 * a reply nor unfinalised. Frames [unfinalisedFrom, sendNext) are sent and
 * not finalised (resent after a reconnect); [sendNext, end) wait to be sent
 * on this connection; [answeredNext, sendNext) await their replies on it (for
 * protocols that reply; for the others `answeredNext` follows `sendNext`).
 * Positions count what is kept: audio dropped by an overflow policy before it
 * reached the ledger leaves no gap, so frames lie back to back on the
 * session's timeline.
 */
export class ReplayLedger {
  readonly store: FrameStore;
  unfinalisedFrom = 0;
  sendNext = 0;
  answeredNext = 0;
  /** Where the audio taken so far ends, in ms. */
  audioMs = 0;
  /** The format of the frames (all alike: 16-bit mono at the protocol's rate). */
  format: AudioChunk['format'] | undefined;
  /** Unfinalised audio dropped to keep within the replay bound, in ms. */
  droppedMs = 0;

  constructor(
    private readonly sampleRate: number,
    frameMs: number,
    /** Frames are never cut shorter than this (a protocol's shortest frame), so a replay stays valid. */
    private readonly minFrameMs: number,
  ) {
    this.store = new FrameStore(Math.ceil((frameMs * sampleRate) / 1000));
  }

  /** Takes a frame (the store copies its samples). */
  append(frame: AudioChunk): void {
    const startMs = this.audioMs;
    this.audioMs += framesToMs(frame.samples.length, this.sampleRate);
    this.format ??= frame.format;
    this.store.append(frame.samples as Int16Array, startMs, this.audioMs);
  }

  /** Audio sent and not finalised, in ms. */
  unfinalisedMs(): number {
    const { unfinalisedFrom: from, sendNext } = this;
    return from < sendNext ? this.store.endMs(sendNext - 1) - this.store.startMs(from) : 0;
  }

  /**
   * A new connection starts where the unfinalised audio starts: it is sent
   * again first. Returns the session's time of the connection's time 0.
   */
  rewind(): number {
    const from = this.unfinalisedFrom;
    this.sendNext = this.answeredNext = from;
    return from < this.store.end ? this.store.startMs(from) : this.audioMs;
  }

  /** The connection is gone: no reply is awaited any more. */
  detach(): void {
    this.answeredNext = this.sendNext;
    this.release();
  }

  /** Audio up to `endMs` is settled: it need not be resent (a frame across it keeps its tail). */
  finalise(endMs: number): void {
    const store = this.store;
    while (this.unfinalisedFrom < this.sendNext) {
      const head = this.unfinalisedFrom;
      if (store.endMs(head) <= endMs) {
        this.unfinalisedFrom += 1;
        continue;
      }
      const startMs = store.startMs(head);
      // In place: an awaited reply to this frame still returns its credit once. A tail shorter
      // than the protocol's shortest frame is kept whole (resending a little more is harmless).
      if (startMs < endMs && store.endMs(head) - endMs >= this.minFrameMs) {
        const cut = Math.round(((endMs - startMs) * this.sampleRate) / 1000);
        store.cutHead(head, cut, framesToMs(cut, this.sampleRate));
      }
      break;
    }
    this.release();
  }

  /** Drops the oldest unfinalised audio (already sent: only its second chance is lost) to keep within `maxMs`. */
  dropOldest(maxMs: number): void {
    let held = this.unfinalisedMs();
    const store = this.store;
    while (held > maxMs && this.sendNext - this.unfinalisedFrom > 1) {
      const dropped = this.unfinalisedFrom++;
      const ms = store.endMs(dropped) - store.startMs(dropped);
      held -= ms;
      this.droppedMs += ms;
    }
    this.release();
  }

  /** When the first unfinalised frame that reaches `endMs` was first sent (NaN if none). */
  sentAtOfFrameEndingBy(endMs: number): number {
    for (let seq = this.unfinalisedFrom; seq < this.sendNext; seq++) {
      if (this.store.endMs(seq) >= endMs) return this.store.sentAt(seq);
    }
    return Number.NaN;
  }

  /** Frames neither awaiting a reply nor unfinalised are not needed any more. */
  release(): void {
    this.store.release(Math.min(this.unfinalisedFrom, this.answeredNext));
  }

  /** Gives the memory back; nothing is pending after it. */
  clear(): void {
    this.store.clear();
    this.unfinalisedFrom = this.sendNext = this.answeredNext = this.store.end;
  }
}
