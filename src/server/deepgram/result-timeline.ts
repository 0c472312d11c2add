import type { EngineReply } from './engine-reply.js';
import {
  type ConnectionIdentity,
  type DeepgramServerMessage,
  type DeepgramWord,
  resultsMessage,
  seconds,
  speechStartedMessage,
  utteranceEndMessage,
} from './messages.js';

/** What the request asked for that shapes the messages. */
export interface TimelineOptions {
  /** Send interim `Results` (`interim_results=true`). */
  readonly interimResults: boolean;
  /** Mark finals the engine cut at a pause as `speech_final` (`endpointing` not `false`). */
  readonly endpointing: boolean;
  /** Send `UtteranceEnd` after this gap in milliseconds past the last final word (`utterance_end_ms`). */
  readonly utteranceEndMs: number | undefined;
  /** Send `SpeechStarted` (`vad_events=true`). */
  readonly vadEvents: boolean;
  /** Give words a `punctuated_word` (`punctuate` or `smart_format`); the engines do not punctuate. */
  readonly punctuatedWords: boolean;
}

/** Why the engine replied: audio, or a flush for `Finalize` or `CloseStream`. */
export type ReplyCause = 'audio' | 'finalize' | 'close';

/** Interims repeat at least this often (seconds of audio) while nothing changes, as Deepgram's do. */
const INTERIM_EVERY_SECONDS = 1;

/**
 * One connection's timeline: turns engine replies into Deepgram messages with
 * times in seconds from the start of the connection's audio. Engine sessions
 * may be restarted (a `Finalize` ends one); each starts at the audio consumed
 * so far, so its times are shifted onto the connection's timeline.
 *
 * Result spans are contiguous: a final covers the audio from the previous
 * final's end to the audio consumed when it came, so an empty final carries
 * its span too; an interim covers from the last final's end.
 */
export class ResultTimeline {
  private rate: number;
  private consumed = 0;
  private frameStart = 0;
  private segmentStart = 0;
  private engineStart = 0;
  private lastInterimText: string | undefined;
  private lastResultsAt = 0;
  private speechStarted = false;
  private lastWordEnd: number | undefined;

  constructor(
    private readonly identity: ConnectionIdentity,
    private readonly options: TimelineOptions,
    sampleRate: number,
  ) {
    this.rate = sampleRate;
  }

  /** Sets the sample rate, which a WAV header may give; only before any audio. */
  setSampleRate(rate: number): void {
    if (this.consumed !== 0) throw new Error('the sample rate cannot change once audio was consumed');
    this.rate = rate;
  }

  get sampleRate(): number {
    return this.rate;
  }

  /** Seconds of audio consumed so far. */
  get audioSeconds(): number {
    return this.consumed / this.rate;
  }

  /** A new engine session starts here: its times count from the audio consumed so far. */
  engineStarted(): void {
    this.engineStart = this.consumed;
  }

  /** `samples` more samples go to the engine; call before handing it their reply. */
  advance(samples: number): void {
    this.frameStart = this.consumed;
    this.consumed += samples;
  }

  /** The messages one engine reply gives, in the order to send them. */
  onReply(reply: EngineReply, cause: ReplyCause): DeepgramServerMessage[] {
    const out: DeepgramServerMessage[] = [];
    if (reply.kind === 'final' || cause !== 'audio') this.final(reply, cause, out);
    else this.partial(reply.text, out);
    if (cause === 'audio') this.checkUtteranceEnd(reply, out);
    return out;
  }

  private final(reply: EngineReply, cause: ReplyCause, out: DeepgramServerMessage[]): void {
    const offset = this.engineStart / this.rate;
    const words: DeepgramWord[] =
      reply.kind === 'final'
        ? reply.words.map((w) => ({
            word: w.word,
            start: seconds(w.start + offset),
            end: seconds(w.end + offset),
            confidence: w.conf,
            ...(this.options.punctuatedWords ? { punctuated_word: w.word } : {}),
          }))
        : [];
    if (this.options.vadEvents && !this.speechStarted && words.length > 0) {
      out.push(speechStartedMessage(words[0]!.start));
    }
    const transcript = words.length > 0 ? words.map((w) => w.word).join(' ') : reply.text;
    const confidence =
      words.length > 0 ? seconds(words.reduce((sum, w) => sum + w.confidence, 0) / words.length) : 0;
    const start = this.segmentStart / this.rate;
    out.push(
      resultsMessage(this.identity, {
        start,
        duration: this.consumed / this.rate - start,
        isFinal: true,
        speechFinal: cause === 'audio' && this.options.endpointing,
        fromFinalize: cause === 'finalize',
        transcript,
        confidence,
        words,
      }),
    );
    this.segmentStart = this.consumed;
    this.lastResultsAt = this.consumed;
    this.lastInterimText = undefined;
    this.speechStarted = false;
    if (words.length > 0) this.lastWordEnd = words.at(-1)!.end;
  }

  private partial(text: string, out: DeepgramServerMessage[]): void {
    if (this.options.vadEvents && !this.speechStarted && text !== '') {
      // The engines give no times in partials: speech began in the frame that brought it.
      out.push(speechStartedMessage(this.frameStart / this.rate));
      this.speechStarted = true;
    }
    if (!this.options.interimResults) return;
    const stale = (this.consumed - this.lastResultsAt) / this.rate >= INTERIM_EVERY_SECONDS;
    if (text === (this.lastInterimText ?? '') && !stale) return;
    const start = this.segmentStart / this.rate;
    out.push(
      resultsMessage(this.identity, {
        start,
        duration: this.consumed / this.rate - start,
        isFinal: false,
        speechFinal: false,
        fromFinalize: false,
        transcript: text,
        confidence: 0,
        words: [],
      }),
    );
    this.lastInterimText = text;
    this.lastResultsAt = this.consumed;
  }

  /**
   * `UtteranceEnd` once `utterance_end_ms` of audio went by after the last
   * final word with no new speech; new speech within the gap cancels it.
   */
  private checkUtteranceEnd(reply: EngineReply, out: DeepgramServerMessage[]): void {
    const gapMs = this.options.utteranceEndMs;
    if (gapMs === undefined || this.lastWordEnd === undefined) return;
    if (this.consumed / this.rate - this.lastWordEnd >= gapMs / 1000) {
      out.push(utteranceEndMessage(this.lastWordEnd));
      this.lastWordEnd = undefined;
    } else if (reply.kind === 'partial' && reply.text !== '') {
      this.lastWordEnd = undefined;
    }
  }
}
