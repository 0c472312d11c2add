import type { SchedulerLike, Subscription } from 'rxjs';
import { type AudioChunk, frameCount } from '../audio/audio-format.js';
import { TranscriptionError } from '../errors/transcription-error.js';
import { Demand } from './demand.js';
import type { FlowStats } from './flow-stats.js';

/** What to do with audio that arrives when the buffer is full. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'error';

/** How long audio handed out by a source may go missing before it is written off, by default (ms). */
export const DEFAULT_STALL_MS = 250;

/** Where a {@link FlowController} passes audio on (an RxJS Subscriber is one). */
export interface AudioSink {
  next(chunk: AudioChunk): void;
  error(error: unknown): void;
  complete(): void;
  readonly closed: boolean;
}

/** The settings of a {@link FlowController} (the resolved options of `controlled`). */
export interface FlowSettings {
  readonly demand: Demand;
  readonly maxBufferMs: number;
  readonly overflow: OverflowPolicy;
  readonly prefetchMs: number;
  readonly stallMs: number;
  readonly stats: FlowStats;
  readonly scheduler: SchedulerLike;
}

function ms(chunk: AudioChunk): number {
  return (frameCount(chunk) * 1000) / chunk.format.sampleRate;
}

/** The sample frames [from, to) of a chunk, as a chunk (a view, no copy). */
function slice(chunk: AudioChunk, from: number, to: number): AudioChunk {
  const c = chunk.format.channels;
  return { format: chunk.format, samples: chunk.samples.subarray(from * c, to * c) };
}

/** Audio a source counted out may arrive this much short (a resampler's rounding) and still be its own. */
const HANDED_OUT_SLACK_MS = 5;

/**
 * The state machine behind `controlled`, as a plain object so that a session
 * can run it inline: audio comes in by `next` (from sources subscribed through
 * `withUpstreamLink` with `upstream` as their demand) and goes on to the sink
 * only against `demand`. Sources that claimed `upstream` are asked for what is
 * wanted, one after another or together, however late they are subscribed;
 * audio that no claim handed out (pushed) is bounded by `maxBufferMs` and the
 * overflow policy. No recursion: a re-entrant request joins the running loop.
 */
export class FlowController {
  /** What this asks of a source that can wait. */
  readonly upstream = new Demand();
  private readonly queue: AudioChunk[] = [];
  private bufferedMs = 0;
  private maxBufferSamples = 0;
  private sourceDone = false;
  private draining = false;
  private again = false;
  private stopped = false;
  /** Inside `drain`'s own `demand.consume`. */
  private consuming = false;
  /** Audio handed out by sources that arrived here; what they handed out and did not arrive is in transit. */
  private arrivedMs = 0;
  private writtenOffMs = 0;
  private stallTimer: Subscription | undefined;
  private readonly removeListeners: () => void;

  constructor(
    private readonly settings: FlowSettings,
    private readonly sink: AudioSink,
  ) {
    // Its own consumption (in `drain`) changes the demand too: that change asks for nothing new.
    // Nor does any change while nothing waits here, no source can be asked and none has ended
    // (a live source's stream, where every reply's credit would otherwise run a drain for nothing).
    const drain = (): void => {
      if (this.consuming) return;
      if (this.queue.length === 0 && this.upstream.claims === 0 && !this.sourceDone) return;
      this.drain();
    };
    const refill = (): void => this.refill();
    const removeDownstream = settings.demand.onChange(drain);
    const removeUpstream = this.upstream.onChange(refill);
    this.removeListeners = () => {
      removeDownstream();
      removeUpstream();
    };
  }

  /** Call once the source is subscribed. */
  begin(): void {
    this.drain();
  }

  /** True once the sink takes no more. */
  get closed(): boolean {
    return this.stopped || this.sink.closed;
  }

  next(chunk: AudioChunk): void {
    if (this.closed) return;
    const { stats } = this.settings;
    if (stats.sampleRate === 0) {
      stats.sampleRate = chunk.format.sampleRate;
      this.maxBufferSamples = Math.max(
        1,
        Math.floor((this.settings.maxBufferMs * chunk.format.sampleRate) / 1000),
      );
    }
    const frames = frameCount(chunk);
    const chunkMs = ms(chunk);
    stats.producedSamples += frames;
    // Audio a source handed out against demand is bounded by it (give or take the one chunk
    // a stream hands out at a time): it is never dropped. Audio nobody counted out was pushed.
    const inTransit = this.inTransit();
    const handedOut = inTransit > 0 && inTransit + Math.min(HANDED_OUT_SLACK_MS, chunkMs / 2) >= chunkMs;
    if (handedOut) {
      this.arrivedMs += chunkMs;
      if (this.stallTimer !== undefined) {
        this.stallTimer.unsubscribe();
        this.stallTimer = undefined;
      }
    }
    if (!handedOut && stats.bufferedSamples + frames > this.maxBufferSamples) {
      if (!this.overflowWith(chunk)) return;
    } else this.enqueue(chunk, frames, chunkMs);
    this.drain();
  }

  error(error: unknown): void {
    if (!this.closed) this.sink.error(error);
  }

  complete(): void {
    this.sourceDone = true;
    this.drain();
  }

  /** Stops: nothing more is passed on or asked for, timers and listeners are gone. */
  stop(): void {
    this.stopped = true;
    this.removeListeners();
    this.stallTimer?.unsubscribe();
    this.stallTimer = undefined;
    this.upstream.release();
    this.queue.length = 0;
  }

  private inTransit(): number {
    return Math.max(0, this.upstream.consumed - this.arrivedMs - this.writtenOffMs);
  }

  private refill(): void {
    const { stats, demand, prefetchMs } = this.settings;
    const upstream = this.upstream;
    // Nothing to ask while no source answers: a source that claims later (the next of a
    // concat) brings this back (a claim is a change), and is asked then.
    if (upstream.claims === 0 || this.sourceDone || this.stopped) return;
    stats.pull = true;
    const want =
      demand.outstanding +
      prefetchMs -
      this.bufferedMs -
      Math.max(0, upstream.outstanding) -
      this.inTransit();
    // Ask in batches (half the read-ahead at least), so a source reads fewer, larger pieces.
    if (want >= Math.max(1, prefetchMs / 2) || (want >= 1 && this.queue.length === 0)) upstream.request(want);
    // Starved with audio in transit, not on its way now, and none that an operator in between
    // says it holds: that operator dropped it (a filter), and it is written off after a while.
    const starved =
      this.queue.length === 0 &&
      demand.outstanding > 0 &&
      upstream.outstanding <= 0 &&
      !upstream.delivering &&
      upstream.held <= 0 &&
      this.inTransit() > 0;
    if (starved && this.stallTimer === undefined) {
      const arrivedAtStart = this.arrivedMs;
      this.stallTimer = this.settings.scheduler.schedule(() => {
        this.stallTimer = undefined;
        if (this.arrivedMs === arrivedAtStart) this.writtenOffMs += this.inTransit();
        this.drain();
      }, this.settings.stallMs);
    }
  }

  private drain(): void {
    if (this.draining) {
      this.again = true;
      return;
    }
    if (this.stopped) return;
    this.draining = true;
    const { demand, stats } = this.settings;
    const queue = this.queue;
    const sink = this.sink;
    try {
      do {
        this.again = false;
        while (queue.length > 0 && demand.outstanding > 0 && !this.closed) {
          const chunk = queue.shift()!;
          const frames = frameCount(chunk);
          const chunkMs = ms(chunk);
          this.bufferedMs -= chunkMs;
          stats.bufferedSamples -= frames;
          stats.emittedSamples += frames;
          this.consuming = true;
          try {
            demand.consume(chunkMs);
          } finally {
            this.consuming = false;
          }
          sink.next(chunk);
        }
        if (this.sourceDone && queue.length === 0 && !this.closed) {
          sink.complete();
          return;
        }
        this.refill();
      } while (this.again && !this.closed);
    } finally {
      this.draining = false;
    }
  }

  private enqueue(chunk: AudioChunk, frames = frameCount(chunk), chunkMs = ms(chunk)): void {
    if (frames === 0) return;
    const { stats } = this.settings;
    this.queue.push(chunk);
    this.bufferedMs += chunkMs;
    stats.bufferedSamples += frames;
    if (stats.bufferedSamples > stats.peakBufferedSamples) stats.peakBufferedSamples = stats.bufferedSamples;
  }

  /** Applies the overflow policy to a chunk that does not fit. Returns false if it errored. */
  private overflowWith(chunk: AudioChunk): boolean {
    const { stats, overflow, maxBufferMs } = this.settings;
    const frames = frameCount(chunk);
    const room = this.maxBufferSamples - stats.bufferedSamples;
    if (overflow === 'error') {
      this.sink.error(
        new TranscriptionError(
          `audio overflowed the ${maxBufferMs} ms buffer: it arrives faster than the server takes it (overflow: 'error'; 'drop-oldest' and 'drop-newest' drop instead)`,
          { kind: 'overflow', retryable: false },
        ),
      );
      return false;
    }
    if (overflow === 'drop-newest') {
      // Keep what fits of the new audio; drop the rest of it.
      if (room > 0) this.enqueue(slice(chunk, 0, room));
      stats.droppedSamples += frames - Math.max(0, room);
      return true;
    }
    // drop-oldest: make room from the front of the buffer, then keep the newest audio.
    const queue = this.queue;
    let needed = Math.min(frames, this.maxBufferSamples) - room;
    while (needed > 0 && queue.length > 0) {
      const head = queue[0]!;
      const headFrames = frameCount(head);
      const cut = Math.min(needed, headFrames);
      if (cut === headFrames) queue.shift();
      else queue[0] = slice(head, cut, headFrames);
      this.bufferedMs -= (cut * 1000) / head.format.sampleRate;
      stats.bufferedSamples -= cut;
      stats.droppedSamples += cut;
      needed -= cut;
    }
    const keep = Math.min(frames, this.maxBufferSamples);
    stats.droppedSamples += frames - keep;
    this.enqueue(slice(chunk, frames - keep, frames));
    return true;
  }
}
