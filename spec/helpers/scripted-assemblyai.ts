import type { SchedulerLike } from 'rxjs';
import type { SocketFactory, SocketOptions, WireMessage } from '../../src/transport/socket-driver.js';

/** What the scripted AssemblyAI peer saw. */
export interface AssemblyAILog {
  /** Every message, per connection. */
  readonly sent: WireMessage[][];
  /** The scheduler's time of each message, per connection. */
  readonly sentAt: number[][];
  /** The options each connection was opened with (URL, headers). */
  readonly opened: Array<{ url: string; options: SocketOptions }>;
  /** When each connection sent Begin. */
  readonly beganAt: number[];
}

export interface ScriptedAssemblyAIOptions {
  /** Send Begin this long after the open (default 1 ms); `false`: never. */
  readonly beginAfterMs?: number | false;
  /**
   * On connection n (0-based), when its `frame`-th audio frame (1-based) arrives: close with
   * `code` (a drop), or first send `Error {error_code: code, error}` when `error` is given.
   */
  readonly failAt?: ReadonlyArray<
    { readonly frame: number; readonly code: number; readonly error?: string } | undefined
  >;
  /** Words per turn (default 3): a turn ends, with end_of_turn, every this many frames. */
  readonly turnWords?: number;
  /** Answer Terminate with the last turn and Termination (default true), then close 1000. */
  readonly termination?: boolean;
}

/**
 * An AssemblyAI-speaking peer on a scheduler. The audio's first sample names
 * its word: a frame filled with k is the word `wk`. Each connection is a new
 * session whose word times count in ms from 0; each frame brings a partial
 * turn of the words so far, and every `turnWords` frames the turn ends
 * (`end_of_turn`, then a formatted copy when the URL asks `format_turns=true`).
 * `Terminate` brings the last turn, `Termination`, and close 1000.
 */
export function scriptedAssemblyAI(
  scheduler: SchedulerLike,
  options: ScriptedAssemblyAIOptions = {},
): { factory: SocketFactory; log: AssemblyAILog } {
  const log: AssemblyAILog = { sent: [], sentAt: [], opened: [], beganAt: [] };
  const turnWords = options.turnWords ?? 3;
  let connections = 0;
  const factory: SocketFactory = (url, socketOptions, handlers) => {
    const connection = connections++;
    log.opened.push({ url, options: socketOptions });
    const sent: WireMessage[] = [];
    const sentAt: number[] = [];
    log.sent.push(sent);
    log.sentAt.push(sentAt);
    const formatTurns = new URL(url).searchParams.get('format_turns') === 'true';
    const rate = Number(new URL(url).searchParams.get('sample_rate'));
    /** Words of this connection: text and times in ms. */
    const words: Array<{ text: string; start: number; end: number }> = [];
    let audioMs = 0;
    let turnFrom = 0;
    let turnOrder = 0;
    let closed = false;
    const later = (work: () => void): void => {
      scheduler.schedule(() => {
        if (!closed) work();
      }, 1);
    };
    const turn = (to: number, endOfTurn: boolean, formatted: boolean): string =>
      JSON.stringify({
        type: 'Turn',
        turn_order: turnOrder,
        turn_is_formatted: formatted,
        end_of_turn: endOfTurn,
        transcript: words
          .slice(turnFrom, to)
          .map((w) => (formatted ? w.text.toUpperCase() : w.text))
          .join(' '),
        end_of_turn_confidence: endOfTurn ? 0.9 : 0.1,
        words: words.slice(turnFrom, to).map((w) => ({
          start: w.start,
          end: w.end,
          confidence: 0.9,
          text: formatted ? w.text.toUpperCase() : w.text,
          word_is_final: endOfTurn,
        })),
      });
    const endTurn = (): void => {
      if (turnFrom === words.length) return;
      handlers.message(turn(words.length, true, false));
      if (formatTurns) handlers.message(turn(words.length, true, true));
      turnFrom = words.length;
      turnOrder += 1;
    };
    scheduler.schedule(() => {
      handlers.open();
      const after = options.beginAfterMs ?? 1;
      if (after === false) return;
      scheduler.schedule(() => {
        if (closed) return;
        log.beganAt[connection] = scheduler.now();
        handlers.message(JSON.stringify({ type: 'Begin', id: `session-${connection}`, expires_at: 0 }));
      }, after);
    }, 1);
    return {
      send(data) {
        if (closed) return;
        sent.push(typeof data === 'string' ? data : data.slice());
        sentAt.push(scheduler.now());
        if (typeof data !== 'string') {
          const first = new Int16Array(data.buffer, data.byteOffset, 1)[0]!;
          const ms = (data.byteLength / 2 / rate) * 1000;
          words.push({ text: `w${first}`, start: audioMs, end: audioMs + ms * 0.9 });
          audioMs += ms;
          const fail = options.failAt?.[connection];
          if (fail !== undefined && words.length === fail.frame) {
            closed = true;
            scheduler.schedule(() => {
              if (fail.error !== undefined) {
                handlers.message(JSON.stringify({ type: 'Error', error_code: fail.code, error: fail.error }));
              }
              handlers.close(fail.code, fail.error ?? '');
            }, 1);
            return;
          }
          later(() => {
            handlers.message(turn(words.length, false, false));
            if (words.length - turnFrom >= turnWords) endTurn();
          });
          return;
        }
        const message = JSON.parse(data) as { type: string };
        if (message.type === 'Terminate') {
          later(() => {
            endTurn();
            if (options.termination === false) return;
            handlers.message(
              JSON.stringify({
                type: 'Termination',
                audio_duration_seconds: Math.round(audioMs / 1000),
                session_duration_seconds: 1,
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
