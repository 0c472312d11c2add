import type { SchedulerLike } from 'rxjs';
import type { SocketFactory, SocketOptions, WireMessage } from '../../src/transport/socket-driver.js';

/** What the scripted Deepgram peer saw. */
export interface DeepgramLog {
  /** Every message, per connection. */
  readonly sent: WireMessage[][];
  /** The scheduler's time of each message, per connection. */
  readonly sentAt: number[][];
  /** The options each connection was opened with (URL, headers, subprotocols). */
  readonly opened: Array<{ url: string; options: SocketOptions }>;
}

export interface ScriptedDeepgramOptions {
  /** Drop connection n (0-based) with this close code when its `frame`-th audio frame (1-based) arrives, before answering. */
  readonly dropAt?: ReadonlyArray<
    { readonly frame: number; readonly code: number; readonly reason?: string } | undefined
  >;
  /** After CloseStream, send Metadata (default true) and close 1000 (default true). */
  readonly metadata?: boolean;
  /** Finalise each frame this many frames late (default 1): what a drop leaves unfinalised. */
  readonly lag?: number;
}

const FRAME_S = 0.1;

/**
 * A Deepgram-speaking peer on a scheduler. The audio's first sample names
 * its word: a frame filled with k is the word `wk`. Each connection counts
 * time from 0 (as Deepgram does), sends an interim result for each frame as
 * it arrives and its final `lag` frames later (contiguous `start` and
 * `duration`, `speech_final` on every third), and answers CloseStream with
 * the last finals, `Metadata` and close 1000.
 */
export function scriptedDeepgram(
  scheduler: SchedulerLike,
  options: ScriptedDeepgramOptions = {},
): { factory: SocketFactory; log: DeepgramLog } {
  const log: DeepgramLog = { sent: [], sentAt: [], opened: [] };
  const lag = options.lag ?? 1;
  let connections = 0;
  const factory: SocketFactory = (url, socketOptions, handlers) => {
    const connection = connections++;
    log.opened.push({ url, options: socketOptions });
    const sent: WireMessage[] = [];
    const sentAt: number[] = [];
    log.sent.push(sent);
    log.sentAt.push(sentAt);
    /** The word of each frame received on this connection. */
    const words: string[] = [];
    let finalised = 0;
    let closed = false;
    const later = (work: () => void): void => {
      scheduler.schedule(() => {
        if (!closed) work();
      }, 1);
    };
    const results = (from: number, to: number, isFinal: boolean, speechFinal: boolean): string =>
      JSON.stringify({
        type: 'Results',
        channel_index: [0, 1],
        start: from * FRAME_S,
        duration: (to - from) * FRAME_S,
        is_final: isFinal,
        speech_final: speechFinal,
        from_finalize: false,
        channel: {
          alternatives: [
            {
              transcript: words.slice(from, to).join(' '),
              confidence: 1,
              words: words.slice(from, to).map((word, i) => ({
                word,
                start: (from + i) * FRAME_S,
                end: (from + i + 0.9) * FRAME_S,
                confidence: 1,
              })),
            },
          ],
        },
        metadata: { request_id: 'r', model_info: { name: 'm', version: '1', arch: 'a' }, model_uuid: 'u' },
      });
    const finaliseTo = (to: number): void => {
      while (finalised < to) {
        const n = finalised + 1;
        handlers.message(results(finalised, n, true, n % 3 === 0));
        finalised = n;
      }
    };
    scheduler.schedule(() => handlers.open(), 1);
    return {
      send(data) {
        if (closed) return;
        sent.push(typeof data === 'string' ? data : data.slice());
        sentAt.push(scheduler.now());
        if (typeof data !== 'string') {
          const first = new Int16Array(data.buffer, data.byteOffset, 1)[0]!;
          words.push(`w${first}`);
          const drop = options.dropAt?.[connection];
          if (drop !== undefined && words.length === drop.frame) {
            closed = true;
            scheduler.schedule(() => handlers.close(drop.code, drop.reason ?? ''), 1);
            return;
          }
          const count = words.length;
          later(() => {
            handlers.message(results(finalised, count, false, false));
            finaliseTo(Math.max(finalised, count - lag));
          });
          return;
        }
        const message = JSON.parse(data) as { type: string };
        if (message.type === 'CloseStream') {
          later(() => {
            finaliseTo(words.length);
            if (options.metadata === false) return;
            handlers.message(
              JSON.stringify({
                type: 'Metadata',
                transaction_key: 'deprecated',
                request_id: 'r',
                sha256: '',
                created: '',
                duration: words.length * FRAME_S,
                channels: 1,
              }),
            );
            closed = true;
            handlers.close(1000, '');
          });
        }
      },
      bufferedAmount: 0,
      close() {
        closed = true;
      },
      terminate() {
        closed = true;
      },
    };
  };
  return { factory, log };
}
