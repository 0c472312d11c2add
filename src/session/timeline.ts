import { type ProtocolResult, RESULT_TIME_SLACK_MS } from '../protocols/protocol.js';
import type { TranscriptEvent, TranscriptWord } from '../transcript-event.js';

/** What a final did to the timeline. */
export interface FinalOutcome {
  /** The event to emit, if the final says something not emitted before. */
  readonly event: TranscriptEvent | undefined;
  /** Where the settled audio now ends, when the final moved it on (undefined when it did not). */
  readonly settledMs: number | undefined;
}

const NOTHING: FinalOutcome = { event: undefined, settledMs: undefined };

/**
 * One timeline from the start of the audio, over every connection. Each
 * connection's times start at 0 (Vosk, Deepgram, AssemblyAI alike) at the
 * session's `offsetMs`, where its audio starts; results are moved onto the
 * session's timeline, kept within the audio sent, and what an earlier
 * connection settled is not emitted again.
 */
export class Timeline {
  /** The session's time of the current connection's time 0. */
  offsetMs = 0;
  /** Where the audio sent on this connection ends, on the session's timeline. */
  sentEndMs = 0;
  /** The last audio answered on this connection, on the session's timeline. */
  answeredMs = 0;
  /** The furthest audio any connection has answered: past it is progress. */
  answeredHighMs = 0;
  /** Where the last final emitted (or settled) ends. */
  lastFinalEndMs = 0;
  /** Where the latest final on this connection ended (finals never reach back over it). */
  private connectionFinalEndMs = 0;
  private lastPartial = '';
  private lastUtteranceEndMs = 0;

  /** A new connection whose time 0 is the session's `offsetMs`. */
  startConnection(offsetMs: number): void {
    this.offsetMs = offsetMs;
    this.answeredMs = this.sentEndMs = this.connectionFinalEndMs = offsetMs;
  }

  /** The server has answered the audio up to `endMs` (session time); true when no connection had before. */
  answered(endMs: number): boolean {
    if (endMs > this.answeredMs) this.answeredMs = endMs;
    if (endMs <= this.answeredHighMs) return false;
    this.answeredHighMs = endMs;
    return true;
  }

  /** Audio sent on the current connection, in its own time. */
  sentOnConnectionMs(): number {
    return this.sentEndMs - this.offsetMs;
  }

  /** Where a result ends, on the connection's time (0 without times). */
  static endOf(result: ProtocolResult): number {
    return Math.max(result.endMs ?? 0, result.words.at(-1)?.endMs ?? 0);
  }

  /**
   * A result whose times reach past the audio sent on this connection, or a
   * final that reaches back over the final before it on this connection
   * (beyond rounding, both). After a reconnect, finals over audio finalised on
   * an earlier connection are expected (the resent audio): those are dropped.
   */
  problem(result: ProtocolResult): string | undefined {
    const sentMs = this.sentOnConnectionMs();
    const endMs = Timeline.endOf(result);
    if (endMs > sentMs + RESULT_TIME_SLACK_MS) {
      return `times up to ${endMs} ms, past the ${Math.round(sentMs)} ms of audio sent on this connection`;
    }
    if (result.type === 'final') {
      const startMs = result.words[0]?.startMs ?? result.startMs;
      const previousEnd = this.connectionFinalEndMs - this.offsetMs;
      if (startMs !== undefined && startMs < previousEnd - RESULT_TIME_SLACK_MS) {
        return `a final from ${startMs} ms that reaches back over the final before it, which ended at ${Math.round(previousEnd)} ms`;
      }
    }
    return undefined;
  }

  /** Onto the session's timeline, within the audio sent (a server's rounding may reach past it). */
  private place(ms: number): number {
    return Math.min(ms + this.offsetMs, this.sentEndMs);
  }

  /** A partial as news, or undefined when it says nothing new (servers repeat it with every reply). */
  partial(result: ProtocolResult): TranscriptEvent | undefined {
    if (result.text === '' || result.text === this.lastPartial) return undefined;
    this.lastPartial = result.text;
    const from = this.lastFinalEndMs;
    const own = result.endMs !== undefined || result.words.length > 0;
    const end = own ? this.place(Timeline.endOf(result)) : this.answeredMs;
    return {
      type: 'partial',
      text: result.text,
      startMs: from,
      endMs: Math.max(from, end),
      words: [],
      ...(result.id !== undefined ? { id: result.id } : {}),
    };
  }

  /** A final: what it settles, and the event for the words not emitted before. */
  final(result: ProtocolResult): FinalOutcome {
    this.lastPartial = '';
    const allWords: TranscriptWord[] = result.words.map((w) => ({
      ...w,
      startMs: this.place(w.startMs),
      endMs: this.place(w.endMs),
    }));
    // Words already emitted (before a reconnect) are not emitted again.
    const words = allWords.filter((w) => w.endMs > this.lastFinalEndMs);
    let startMs: number;
    let endMs: number;
    // A span reaching past the last word (the silence after it) is settled too.
    const spanEnd = result.endMs !== undefined ? this.place(result.endMs) : 0;
    if (result.words.length > 0) {
      if (words.length === 0) {
        if (spanEnd <= this.lastFinalEndMs) return NOTHING;
        this.lastFinalEndMs = spanEnd;
        if (spanEnd > this.connectionFinalEndMs) this.connectionFinalEndMs = spanEnd;
        return { event: undefined, settledMs: spanEnd };
      }
      startMs = words[0]!.startMs;
      endMs = words.at(-1)!.endMs;
    } else if (result.endMs !== undefined) {
      // A span of its own: settled already if it ends where the last final ended, or before.
      if (spanEnd <= this.lastFinalEndMs && result.text !== '') return NOTHING;
      startMs = Math.max(this.lastFinalEndMs, this.place(result.startMs ?? 0));
      endMs = Math.max(startMs, spanEnd);
    } else {
      // No times at all: the final settles the audio its message answered (Vosk's rule).
      startMs = this.lastFinalEndMs;
      endMs = Math.max(startMs, this.answeredMs);
    }
    const settles = Math.max(endMs, spanEnd);
    if (settles > this.connectionFinalEndMs) this.connectionFinalEndMs = settles;
    let settledMs: number | undefined;
    if (settles > this.lastFinalEndMs) {
      this.lastFinalEndMs = settles;
      settledMs = settles;
    }
    // An utterance of silence or noise settles its audio and says nothing.
    if (result.text === '') return settledMs === undefined ? NOTHING : { event: undefined, settledMs };
    const text = words.length === result.words.length ? result.text : words.map((w) => w.text).join(' ');
    const event: TranscriptEvent = {
      type: 'final',
      text,
      startMs,
      endMs,
      words,
      endOfUtterance: result.endOfUtterance === true,
      ...(result.id !== undefined ? { id: result.id } : {}),
    };
    return { event, settledMs };
  }

  /** The server's separate end-of-utterance mark, once per point of the timeline. */
  utteranceEnd(connectionMs: number): TranscriptEvent | undefined {
    const at = this.place(connectionMs);
    if (at <= this.lastUtteranceEndMs) return undefined;
    this.lastUtteranceEndMs = at;
    return { type: 'utterance-end', text: '', startMs: at, endMs: at, words: [], endOfUtterance: true };
  }
}
