import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import type { AudioChunk } from '../audio/audio-format.js';
import { Framer } from '../audio/framer.js';
import { Pcm16Normaliser } from '../audio/pcm16-normaliser.js';
import type { Demand } from '../flow/demand.js';
import {
  type AudioSink,
  DEFAULT_STALL_MS,
  FlowController,
  type OverflowPolicy,
} from '../flow/flow-controller.js';
import type { FlowStats } from '../flow/flow-stats.js';
import { type SourceNotice, withUpstreamLink } from '../flow/upstream-link.js';

/** How a session takes its audio in. */
export interface IntakeConfig {
  readonly sampleRate: number;
  readonly frameMs: number;
  readonly maxBufferMs: number;
  readonly overflow: OverflowPolicy;
  readonly readAheadMs: number;
  readonly scheduler: SchedulerLike;
}

/** A running intake: the source's subscription and the flow control it feeds. */
export interface AudioIntake {
  readonly subscription: Subscription;
  readonly flow: FlowController;
}

/**
 * Subscribes the source through the three steps every frame takes: to 16-bit
 * mono at the server's rate, into frames, through flow control, into `sink`.
 * The steps run inline as plain objects (the state behind `toPcm16`, `frames`
 * and `controlled`): as operators they were three subscribers, observers and
 * closures per session and three hops per frame, a third of a session's heap.
 */
export function startIntake(
  source: Observable<AudioChunk>,
  config: IntakeConfig,
  sink: AudioSink,
  demand: Demand,
  stats: FlowStats,
  onNotice: (notice: SourceNotice) => void,
): AudioIntake {
  const normaliser = new Pcm16Normaliser(config.sampleRate, 'transcribe');
  const framer = new Framer(config.frameMs);
  const flow = new FlowController(
    {
      demand,
      maxBufferMs: config.maxBufferMs,
      overflow: config.overflow,
      prefetchMs: config.readAheadMs,
      stallMs: DEFAULT_STALL_MS,
      stats,
      scheduler: config.scheduler,
    },
    sink,
  );
  const link = {
    demand: flow.upstream,
    notice: (notice: SourceNotice): void => {
      stats.trailingBytes += notice.bytes;
      onNotice(notice);
    },
  };
  const subscription = withUpstreamLink(source, link).subscribe({
    next: (chunk) => {
      try {
        const normalised = normaliser.push(chunk);
        if (normalised !== undefined) framer.push(normalised, flow);
      } catch (error) {
        flow.error(error);
      }
    },
    error: (error: unknown) => flow.error(error),
    complete: () => {
      const tail = normaliser.flush();
      if (tail !== undefined) framer.push(tail, flow);
      framer.flush(flow);
      flow.complete();
    },
  });
  flow.begin();
  return { subscription, flow };
}
