import { createHash, type Hash } from 'node:crypto';
import type { Engine, EngineSession, EngineSessionOptions } from './engine.js';

/** Lowest and highest sample rates the synthetic engine takes. */
const MIN_RATE = 8000;
const MAX_RATE = 192000;

/** A word of the synthetic engine: "w" and the first 8 hex digits of the SHA-256 of its audio. */
interface SyntheticWord {
  readonly word: string;
  readonly start: number;
  readonly end: number;
}

function reply(words: readonly SyntheticWord[], options: EngineSessionOptions): string {
  const withWords = options.words;
  const text = JSON.stringify(words.map((w) => w.word).join(' '));
  if ((options.alternatives ?? 0) > 0) {
    // No N-best list: one alternative, shaped as Vosk's (words without conf).
    const result = words.map((w) => `{"word": "${w.word}", "start": ${w.start}, "end": ${w.end}}`);
    const list = withWords && words.length > 0 ? `, "result": [${result.join(', ')}]` : '';
    return `{"alternatives": [{"text": ${text}, "confidence": 1.0${list}}]}`;
  }
  if (!withWords || words.length === 0) return `{"text": ${text}}`;
  const result = words.map((w) => `{"word": "${w.word}", "start": ${w.start}, "end": ${w.end}, "conf": 1.0}`);
  return `{"result": [${result.join(', ')}], "text": ${text}}`;
}

const EMPTY_PARTIAL = '{"partial": ""}';

/**
 * A session of the synthetic engine: hashes each full second of audio as it
 * arrives, so it holds one running hash and a counter, never the audio.
 */
class SyntheticSession implements EngineSession {
  private readonly bytesPerSecond: number;
  private hash: Hash = createHash('sha256');
  /** Bytes hashed into the current second. */
  private inSecond = 0;
  /** Start of the current second, in seconds since the start of the session (a reset may leave it fractional). */
  private second = 0;

  constructor(private readonly options: EngineSessionOptions) {
    this.bytesPerSecond = options.sampleRate * 2;
  }

  private word(durationSeconds: number): SyntheticWord {
    const word = `w${this.hash.digest('hex').slice(0, 8)}`;
    const start = this.second;
    this.second += durationSeconds;
    this.inSecond = 0;
    this.hash = createHash('sha256');
    return { word, start, end: start + durationSeconds };
  }

  async accept(pcm: Uint8Array): Promise<string> {
    const completed: SyntheticWord[] = [];
    let offset = 0;
    while (offset < pcm.length) {
      const take = Math.min(this.bytesPerSecond - this.inSecond, pcm.length - offset);
      this.hash.update(pcm.subarray(offset, offset + take));
      this.inSecond += take;
      offset += take;
      if (this.inSecond === this.bytesPerSecond) completed.push(this.word(1));
    }
    return completed.length > 0 ? reply(completed, this.options) : EMPTY_PARTIAL;
  }

  async finish(): Promise<string> {
    if (this.inSecond === 0) return reply([], this.options);
    const seconds = this.inSecond / this.bytesPerSecond;
    return reply([this.word(seconds)], this.options);
  }

  /** The audio since the last word as a word; the next second starts where it ends. */
  reset(): Promise<string> {
    return this.finish();
  }

  async close(): Promise<void> {}
}

/**
 * The synthetic engine: recognises nothing. Its words are a function of the
 * audio (one word per second, named by the SHA-256 of that second's PCM), so
 * load and fault tests can compute what it must say. A reset ends the current
 * (short) second as a word, and seconds count on from there; with
 * alternatives, finals are one alternative; phrase lists are ignored. Not a
 * speech recogniser.
 */
export const syntheticEngine: Engine = {
  name: 'synthetic',
  defaultSampleRate: 16000,
  checkSampleRate(sampleRate) {
    if (Number.isInteger(sampleRate) && sampleRate >= MIN_RATE && sampleRate <= MAX_RATE) return undefined;
    return `the synthetic engine takes whole rates from ${MIN_RATE} to ${MAX_RATE} Hz`;
  },
  createSession(options) {
    return new SyntheticSession(options);
  },
};
