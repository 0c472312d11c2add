import type { EngineReply } from '../deepgram/engine-reply.js';
import type { AssemblyAIWord, TurnMessage } from './messages.js';

/** Why the engine replied: audio, or a flush (`ForceEndpoint`, `Terminate`). */
export type ReplyCause = 'audio' | 'flush';

/**
 * One session's turns: engine replies become `Turn` messages with word times
 * in ms from the start of the session's audio. An engine final with words
 * ends a turn (`end_of_turn: true`, then, with `format_turns`, the same turn
 * again, formatted); a partial with new text is a turn in progress. Silence
 * says nothing, as with AssemblyAI. The engines give no times in partials:
 * a partial's words are spread evenly over the audio since the last turn
 * ended (documented in docs/server.md). Engine sessions may be restarted (a
 * flush ends one); each starts at the audio consumed so far, so its times are
 * shifted onto the session's timeline.
 */
export class TurnTimeline {
  private consumed = 0;
  private engineStart = 0;
  /** Where the turn in progress began: the audio consumed when the last one ended. */
  private turnStart = 0;
  private turnOrder = 0;
  private lastPartial = '';
  formatTurns: boolean;

  constructor(
    readonly sampleRate: number,
    formatTurns: boolean,
  ) {
    this.formatTurns = formatTurns;
  }

  /** Seconds of audio consumed so far. */
  get audioSeconds(): number {
    return this.consumed / this.sampleRate;
  }

  /** A new engine session starts here: its times count from the audio consumed so far. */
  engineStarted(): void {
    this.engineStart = this.consumed;
  }

  /** `samples` more samples go to the engine; call before handing it their reply. */
  advance(samples: number): void {
    this.consumed += samples;
  }

  /** The messages one engine reply gives, in the order to send them. */
  onReply(reply: EngineReply, cause: ReplyCause): TurnMessage[] {
    if (reply.kind === 'final') return this.final(reply);
    if (cause === 'flush') return [];
    return this.partial(reply.text);
  }

  private ms(samples: number): number {
    return Math.round((samples / this.sampleRate) * 1000);
  }

  private final(reply: Extract<EngineReply, { kind: 'final' }>): TurnMessage[] {
    const offset = this.engineStart / this.sampleRate;
    const words: AssemblyAIWord[] = reply.words.map((w) => ({
      start: Math.round((w.start + offset) * 1000),
      end: Math.round((w.end + offset) * 1000),
      confidence: Math.min(1, Math.max(0, w.conf)),
      text: w.word,
      word_is_final: true,
    }));
    this.lastPartial = '';
    this.turnStart = this.consumed;
    if (words.length === 0) return [];
    const order = this.turnOrder;
    this.turnOrder += 1;
    const turn: TurnMessage = {
      type: 'Turn',
      turn_order: order,
      turn_is_formatted: false,
      end_of_turn: true,
      transcript: words.map((w) => w.text).join(' '),
      end_of_turn_confidence: 1,
      words,
    };
    return this.formatTurns ? [turn, formatted(turn)] : [turn];
  }

  private partial(text: string): TurnMessage[] {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed === this.lastPartial) return [];
    this.lastPartial = trimmed;
    const texts = trimmed.split(/\s+/);
    const from = this.ms(this.turnStart);
    const span = (this.ms(this.consumed) - from) / texts.length;
    const words: AssemblyAIWord[] = texts.map((word, i) => ({
      start: Math.round(from + i * span),
      end: Math.round(from + (i + 1) * span),
      confidence: 0.5,
      text: word,
      word_is_final: false,
    }));
    return [
      {
        type: 'Turn',
        turn_order: this.turnOrder,
        turn_is_formatted: false,
        end_of_turn: false,
        transcript: trimmed,
        end_of_turn_confidence: 0,
        words,
      },
    ];
  }
}

/** The engines neither punctuate nor case: a formatted turn is capitalised and ends with a full stop. */
function formatted(turn: TurnMessage): TurnMessage {
  const last = turn.words.length - 1;
  const words = turn.words.map((w, i) => {
    let text = i === 0 ? capitalised(w.text) : w.text;
    if (i === last) text = `${text}.`;
    return { ...w, text };
  });
  return { ...turn, turn_is_formatted: true, transcript: words.map((w) => w.text).join(' '), words };
}

function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
