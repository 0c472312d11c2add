import type { SchedulerLike } from 'rxjs';
import type { SocketFactory, SocketOptions, WireMessage } from '../../src/transport/socket-driver.js';

/** What the scripted OpenAI peer saw. */
export interface OpenAILog {
  /** Every message, per connection. */
  readonly sent: WireMessage[][];
  readonly opened: Array<{ url: string; options: SocketOptions }>;
}

export interface ScriptedOpenAIOptions {
  /** Server VAD (default): an item every `itemFrames` frames. Manual: an item per client commit. */
  readonly vad?: boolean;
  /** Frames per VAD item (default 2). */
  readonly itemFrames?: number;
  /** Complete each pair of items in reverse order (the second's completion first). */
  readonly swapCompletions?: boolean;
  /** Drop connection n (0-based) with this close code when its `frame`-th audio frame (1-based) arrives. */
  readonly dropAt?: ReadonlyArray<{ readonly frame: number; readonly code: number } | undefined>;
  /** Answer the end's commit with nothing (a server that never completes). */
  readonly silentEnd?: boolean;
}

/** 100 ms at 24 kHz. */
const FRAME_MS = 100;

/**
 * An OpenAI-Realtime-speaking peer on a scheduler. A frame's first sample
 * names its word (a frame filled with k is `wk`). Each connection counts time
 * from 0: `session.created` at once, `session.updated` for the update; with
 * VAD an item (speech_started/stopped, committed, one delta per word,
 * completed) every `itemFrames` frames; a client commit makes an item of what
 * is left, or `input_audio_buffer_commit_empty` when nothing is.
 */
export function scriptedOpenAI(
  scheduler: SchedulerLike,
  options: ScriptedOpenAIOptions = {},
): { factory: SocketFactory; log: OpenAILog } {
  const log: OpenAILog = { sent: [], opened: [] };
  const vad = options.vad ?? true;
  const itemFrames = options.itemFrames ?? 2;
  let connections = 0;
  const factory: SocketFactory = (url, socketOptions, handlers) => {
    const connection = connections++;
    log.opened.push({ url, options: socketOptions });
    const sent: WireMessage[] = [];
    log.sent.push(sent);
    let closed = false;
    let frames = 0;
    /** Words of the frames not yet in an item, and where they start (frame index). */
    let buffer: string[] = [];
    let bufferStart = 0;
    let lastItem: string | null = null;
    let items = 0;
    const held: Array<() => void> = [];
    const emit = (event: Record<string, unknown>): void => {
      if (!closed) handlers.message(JSON.stringify({ event_id: `ev_${connection}`, ...event }));
    };
    const later = (work: () => void): void => {
      scheduler.schedule(() => {
        if (!closed) work();
      }, 1);
    };
    const item = (withVad: boolean): void => {
      const id = `item_${connection}_${++items}`;
      const words = buffer;
      const start = bufferStart * FRAME_MS;
      const end = frames * FRAME_MS;
      buffer = [];
      bufferStart = frames;
      if (withVad) {
        emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: start, item_id: id });
        emit({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: end, item_id: id });
      }
      emit({ type: 'input_audio_buffer.committed', item_id: id, previous_item_id: lastItem });
      lastItem = id;
      const complete = (): void => {
        for (let i = 0; i < words.length; i++) {
          emit({
            type: 'conversation.item.input_audio_transcription.delta',
            item_id: id,
            delta: i ? ` ${words[i]}` : words[i],
          });
        }
        emit({
          type: 'conversation.item.input_audio_transcription.completed',
          item_id: id,
          content_index: 0,
          transcript: words.join(' '),
        });
      };
      if (options.swapCompletions !== true) complete();
      else if (held.length === 0) held.push(complete);
      else {
        complete();
        for (const h of held.splice(0)) h();
      }
    };
    scheduler.schedule(() => {
      if (closed) return;
      handlers.open();
      emit({ type: 'session.created', session: { type: 'transcription' } });
    }, 1);
    return {
      send(data) {
        if (closed) return;
        sent.push(typeof data === 'string' ? data : data.slice());
        if (typeof data !== 'string') throw new Error('OpenAI takes JSON text only');
        const message = JSON.parse(data) as {
          type: string;
          audio?: string;
          event_id?: string;
          session?: unknown;
        };
        if (message.type === 'session.update') {
          later(() => emit({ type: 'session.updated', session: message.session }));
          return;
        }
        if (message.type === 'input_audio_buffer.append') {
          const bytes = Buffer.from(message.audio!, 'base64');
          frames += 1;
          buffer.push(`w${bytes.readInt16LE(0)}`);
          const drop = options.dropAt?.[connection];
          if (drop !== undefined && frames === drop.frame) {
            closed = true;
            scheduler.schedule(() => handlers.close(drop.code, ''), 1);
            return;
          }
          if (vad && buffer.length >= itemFrames) {
            later(() => {
              if (buffer.length >= itemFrames) item(true);
            });
          }
          return;
        }
        if (message.type === 'input_audio_buffer.commit') {
          later(() => {
            if (options.silentEnd === true) return;
            if (buffer.length === 0) {
              for (const h of held.splice(0)) h();
              emit({
                type: 'error',
                error: {
                  type: 'invalid_request_error',
                  code: 'input_audio_buffer_commit_empty',
                  message: 'buffer too small',
                  param: null,
                  event_id: message.event_id ?? null,
                },
              });
              return;
            }
            item(false);
            for (const h of held.splice(0)) h();
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
