import type { SchedulerLike } from 'rxjs';
import type { SocketFactory, WireMessage } from '../../src/transport/socket-driver.js';

/** What the scripted peer saw and did. */
export interface ScriptLog {
  readonly sent: WireMessage[];
  /** The scheduler's time of each send. */
  readonly sentAt: number[];
  closedWith: number | undefined;
}

/** Where a scripted connection closes: instead of answering its `frame`-th audio frame. */
export interface CloseAt {
  readonly frame: number;
  readonly code: number;
  readonly reason: string;
}

export interface ScriptedVoskOptions {
  /** Frames until the socket opens. Default 1. */
  readonly openAfter?: number;
  /** Frames from a send to its "sent" callback. Default 1. */
  readonly sentAfter?: number;
  /** Frames from a send to its reply. Default 1. */
  readonly replyAfter?: number;
  /** The reply to the n-th audio frame (1-based); default a growing partial "w1 w2 ...". */
  readonly reply?: (n: number) => string;
  /** From this audio frame (1-based) on, the first connection answers nothing: a stall. */
  readonly silentFrom?: number;
  /** The reply to EOF. */
  readonly final?: string;
  /**
   * Close with this code instead of answering the n-th audio frame: on the first
   * connection, or, given a list, on each connection its entry names.
   */
  readonly closeAt?: CloseAt | readonly (CloseAt | undefined)[];
}

/**
 * A Vosk-speaking peer on a scheduler, for marble tests of the session's
 * ordering: it opens, acknowledges sends and answers each audio frame and the
 * EOF after fixed numbers of frames, closing with 1000 right after the EOF's reply, as the Vosk server does.
 */
export function scriptedVosk(
  scheduler: SchedulerLike,
  options: ScriptedVoskOptions = {},
): {
  factory: SocketFactory;
  log: ScriptLog;
} {
  const log: ScriptLog = { sent: [], sentAt: [], closedWith: undefined };
  const reply =
    options.reply ??
    ((n: number) => JSON.stringify({ partial: Array.from({ length: n }, (_, i) => `w${i + 1}`).join(' ') }));
  let connections = 0;
  const factory: SocketFactory = (_url, _options, handlers) => {
    const connection = connections++;
    let audioFrames = 0;
    let closed = false;
    /** Bytes sent whose "sent" callback has not fired: what a real socket would still hold. */
    let unsent = 0;
    scheduler.schedule(() => handlers.open(), options.openAfter ?? 1);
    return {
      send(data, onSent) {
        if (closed) return;
        // A real socket copies what it is sent: the caller may reuse the memory (SocketDriver.send).
        log.sent.push(typeof data === 'string' ? data : data.slice());
        log.sentAt.push(scheduler.now());
        const size = typeof data === 'string' ? data.length : data.byteLength;
        unsent += size;
        scheduler.schedule(() => {
          unsent -= size;
          onSent?.();
        }, options.sentAfter ?? 1);
        if (typeof data === 'string' && data.includes('"config"')) return;
        const isEof = typeof data === 'string';
        const n = isEof ? 0 : ++audioFrames;
        scheduler.schedule(() => {
          if (closed) return;
          if (connection === 0 && options.silentFrom !== undefined && (isEof || n >= options.silentFrom))
            return;
          const closeAt = Array.isArray(options.closeAt)
            ? options.closeAt[connection]
            : connection === 0
              ? (options.closeAt as CloseAt | undefined)
              : undefined;
          if (closeAt !== undefined && n === closeAt.frame) {
            closed = true;
            handlers.close(closeAt.code, closeAt.reason);
            return;
          }
          handlers.message(isEof ? (options.final ?? '{"text": ""}') : reply(n));
          // The final, then the close frame right behind it, as the Vosk server sends them.
          if (isEof && !closed) {
            closed = true;
            handlers.close(1000, '');
          }
        }, options.replyAfter ?? 1);
      },
      get bufferedAmount() {
        return unsent;
      },
      close(code) {
        if (closed) return;
        closed = true;
        log.closedWith = code;
      },
      terminate() {
        closed = true;
      },
    };
  };
  return { factory, log };
}
