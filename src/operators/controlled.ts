import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { type AudioChunk, frameCount } from '../audio/audio-format.js';
import { TranscriptionError } from '../errors/transcription-error.js';
import { Demand, withUpstreamDemand } from '../flow/demand.js';
import { FlowStats } from '../flow/flow-stats.js';

/** What to do with audio that arrives when the buffer is full. */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'error';

/** Options of {@link controlled}. */
export interface ControlledOptions {
  /** Downstream's requests for audio, in ms; audio passes on only against them. */
  readonly demand: Demand;
  /** The most audio held, in ms, for sources that cannot wait. Default 5,000. */
  readonly maxBufferMs?: number;
  /** What a full buffer does with more audio. Default 'drop-oldest' (keep the latest, as for live captions). */
  readonly overflow?: OverflowPolicy;
  /** Sources that wait read this far ahead of downstream's demand. Default 0. */
  readonly prefetchMs?: number;
  /**
   * When audio the source handed out has not arrived for this long (an
   * operator in between dropped or holds it) while downstream waits, it is
   * written off so the source reads on. Default 250 ms.
   */
  readonly stallMs?: number;
  /** Where to count produced, emitted, dropped and buffered audio. */
  readonly stats?: FlowStats;
  /** For tests: the scheduler of the stall timer. */
  readonly scheduler?: SchedulerLike;
}

function ms(chunk: AudioChunk): number {
  return (frameCount(chunk) * 1000) / chunk.format.sampleRate;
}

/** The sample frames [from, to) of a chunk, as a chunk (a view, no copy). */
function slice(chunk: AudioChunk, from: number, to: number): AudioChunk {
  const c = chunk.format.channels;
  return { format: chunk.format, samples: chunk.samples.subarray(from * c, to * c) };
}

/**
 * Pull-based flow control for audio. Audio passes on only as downstream
 * requests it (`demand`, in ms). Upstream, a source that can wait (fromFile,
 * fromReadable, fromReadableStream, fromAsyncIterable) subscribed through
 * this operator reads only what is asked for, so the pipeline holds at most
 * the demand (plus the one chunk a stream may hand out beyond it; such audio
 * is never dropped). A source that cannot wait (a Subject, a microphone) fills a
 * buffer bounded by `maxBufferMs`; what overflows is dropped by the policy
 * (or errors) and counted to the sample in `stats`. At completion, buffered
 * audio is passed on first, then completion. No recursion: a re-entrant
 * request joins the loop already running.
 */
export function controlled(
  options: ControlledOptions,
): (source: Observable<AudioChunk>) => Observable<AudioChunk> {
  const maxBufferMs = options.maxBufferMs ?? 5000;
  const prefetchMs = options.prefetchMs ?? 0;
  const stallMs = options.stallMs ?? 250;
  const overflow = options.overflow ?? 'drop-oldest';
  const scheduler = options.scheduler ?? asyncScheduler;
  if (!(maxBufferMs > 0) || !Number.isFinite(maxBufferMs)) {
    throw new RangeError(`controlled: maxBufferMs must be a positive number, got ${maxBufferMs}`);
  }
  if (!(prefetchMs >= 0) || !(stallMs > 0)) {
    throw new RangeError('controlled: prefetchMs must be 0 or more and stallMs positive');
  }
  if (!['drop-oldest', 'drop-newest', 'error'].includes(overflow)) {
    throw new RangeError(
      `controlled: overflow must be 'drop-oldest', 'drop-newest' or 'error', got ${overflow}`,
    );
  }

  return (source) =>
    new Observable<AudioChunk>((subscriber) => {
      const { demand } = options;
      const stats = options.stats ?? new FlowStats();
      const upstream = new Demand();
      const queue: AudioChunk[] = [];
      let bufferedMs = 0;
      let maxBufferSamples = 0;
      let sourceDone = false;
      let draining = false;
      let again = false;
      /** Audio that arrived here; what the source handed out and did not arrive is in transit. */
      let arrivedMs = 0;
      let writtenOffMs = 0;
      let stallTimer: Subscription | undefined;

      const inTransit = (): number => Math.max(0, upstream.consumed - arrivedMs - writtenOffMs);

      const refill = (): void => {
        if (!stats.pull || sourceDone) return;
        const want =
          demand.outstanding + prefetchMs - bufferedMs - Math.max(0, upstream.outstanding) - inTransit();
        // Ask in batches (half the read-ahead at least), so a source reads fewer, larger pieces.
        if (want >= Math.max(1, prefetchMs / 2) || (want >= 1 && queue.length === 0)) upstream.request(want);
        // Starved with audio in transit: an operator in between holds or dropped it.
        const starved =
          queue.length === 0 && demand.outstanding > 0 && upstream.outstanding <= 0 && inTransit() > 0;
        if (starved && stallTimer === undefined) {
          const arrivedAtStart = arrivedMs;
          stallTimer = scheduler.schedule(() => {
            stallTimer = undefined;
            if (arrivedMs === arrivedAtStart) writtenOffMs += inTransit();
            drain();
          }, stallMs);
        }
      };

      const drain = (): void => {
        if (draining) {
          again = true;
          return;
        }
        draining = true;
        try {
          do {
            again = false;
            while (queue.length > 0 && demand.outstanding > 0 && !subscriber.closed) {
              const chunk = queue.shift()!;
              const frames = frameCount(chunk);
              bufferedMs -= ms(chunk);
              stats.bufferedSamples -= frames;
              stats.emittedSamples += frames;
              demand.consume(ms(chunk));
              subscriber.next(chunk);
            }
            if (sourceDone && queue.length === 0 && !subscriber.closed) {
              subscriber.complete();
              return;
            }
            refill();
          } while (again && !subscriber.closed);
        } finally {
          draining = false;
        }
      };

      const enqueue = (chunk: AudioChunk): void => {
        const frames = frameCount(chunk);
        if (frames === 0) return;
        queue.push(chunk);
        bufferedMs += ms(chunk);
        stats.bufferedSamples += frames;
        stats.peakBufferedSamples = Math.max(stats.peakBufferedSamples, stats.bufferedSamples);
      };

      const drop = (frames: number): void => {
        stats.droppedSamples += frames;
      };

      /** Applies the overflow policy to a chunk that does not fit. Returns false if it errored. */
      const overflowWith = (chunk: AudioChunk): boolean => {
        const frames = frameCount(chunk);
        const room = maxBufferSamples - stats.bufferedSamples;
        if (overflow === 'error') {
          subscriber.error(
            new TranscriptionError(
              `audio overflowed the ${maxBufferMs} ms buffer: it arrives faster than the server takes it (overflow: 'error'; 'drop-oldest' and 'drop-newest' drop instead)`,
              { kind: 'overflow', retryable: false },
            ),
          );
          return false;
        }
        if (overflow === 'drop-newest') {
          // Keep what fits of the new audio; drop the rest of it.
          if (room > 0) enqueue(slice(chunk, 0, room));
          drop(frames - Math.max(0, room));
          return true;
        }
        // drop-oldest: make room from the front of the buffer, then keep the newest audio.
        let needed = Math.min(frames, maxBufferSamples) - room;
        while (needed > 0 && queue.length > 0) {
          const head = queue[0]!;
          const headFrames = frameCount(head);
          const cut = Math.min(needed, headFrames);
          if (cut === headFrames) queue.shift();
          else queue[0] = slice(head, cut, headFrames);
          bufferedMs -= (cut * 1000) / head.format.sampleRate;
          stats.bufferedSamples -= cut;
          drop(cut);
          needed -= cut;
        }
        const keep = Math.min(frames, maxBufferSamples);
        drop(frames - keep);
        enqueue(slice(chunk, frames - keep, frames));
        return true;
      };

      const removeDownstream = demand.onChange(drain);
      const removeUpstream = upstream.onChange(refill);

      const subscription = withUpstreamDemand(upstream, () =>
        source.subscribe({
          next(chunk) {
            if (stats.sampleRate === 0) {
              stats.sampleRate = chunk.format.sampleRate;
              maxBufferSamples = Math.max(1, Math.floor((maxBufferMs * chunk.format.sampleRate) / 1000));
            }
            stats.producedSamples += frameCount(chunk);
            arrivedMs += ms(chunk);
            stallTimer?.unsubscribe();
            stallTimer = undefined;
            // A source that waits for demand is bounded by it (give or take the one chunk a
            // stream hands out at a time): its audio is never dropped. Pushed audio is bounded here.
            if (!stats.pull && stats.bufferedSamples + frameCount(chunk) > maxBufferSamples) {
              if (!overflowWith(chunk)) return;
            } else enqueue(chunk);
            drain();
          },
          error(error) {
            subscriber.error(error);
          },
          complete() {
            sourceDone = true;
            drain();
          },
        }),
      );
      stats.pull = upstream.claimant !== undefined;
      drain();

      return () => {
        subscription.unsubscribe();
        removeDownstream();
        removeUpstream();
        stallTimer?.unsubscribe();
        upstream.release();
        queue.length = 0;
      };
    });
}
