import { asyncScheduler, Observable, type SchedulerLike } from 'rxjs';
import type { AudioChunk } from '../audio/audio-format.js';
import type { Demand } from '../flow/demand.js';
import { DEFAULT_STALL_MS, FlowController, type OverflowPolicy } from '../flow/flow-controller.js';
import { FlowStats } from '../flow/flow-stats.js';
import { withUpstreamLink } from '../flow/upstream-link.js';

export type { OverflowPolicy };

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

/**
 * Pull-based flow control for audio. Audio passes on only as downstream
 * requests it (`demand`, in ms). Upstream, every source that can wait (fromFile,
 * fromReadable, fromReadableStream, fromAsyncIterable) subscribed through
 * this operator, however late and through whatever operators (`concat`,
 * `switchMap`, `repeat`), reads only what is asked for, so the pipeline holds at most
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
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
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
      const stats = options.stats ?? new FlowStats();
      const controller = new FlowController(
        { demand: options.demand, maxBufferMs, overflow, prefetchMs, stallMs, stats, scheduler },
        subscriber,
      );
      const subscription = withUpstreamLink(source, {
        demand: controller.upstream,
        notice: (notice) => {
          stats.trailingBytes += notice.bytes;
        },
      }).subscribe(controller);
      controller.begin();
      return () => {
        subscription.unsubscribe();
        controller.stop();
      };
    });
}
