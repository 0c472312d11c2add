import type { Engine, EngineSession, EngineSessionOptions } from '../../src/server/engines/engine.js';

/** Silence this long after speech ends the utterance (seconds). */
const END_SILENCE = 0.3;

/**
 * A test engine with a toy voice activity detector: a run of non-zero samples
 * is one word, `w1`, `w2`... (numbered per session), given as a partial while
 * it lasts and as a final once 0.3 s of zero samples follow it. Its times are
 * exact, so tests can compute what a server must say about it.
 */
class VadSession implements EngineSession {
  private samples = 0;
  private words = 0;
  private speechStart: number | undefined;
  private lastVoiced = 0;

  constructor(private readonly rate: number) {}

  private final(): string {
    const start = this.speechStart! / this.rate;
    const end = this.lastVoiced / this.rate;
    this.speechStart = undefined;
    const word = `w${this.words}`;
    return JSON.stringify({ result: [{ word, start, end, conf: 0.5 }], text: word });
  }

  async accept(pcm: Uint8Array): Promise<string> {
    const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    let ended: string | undefined;
    for (let i = 0; i + 1 < pcm.length; i += 2) {
      const voiced = view.getInt16(i, true) !== 0;
      this.samples += 1;
      if (voiced) {
        if (this.speechStart === undefined) {
          this.speechStart = this.samples - 1;
          this.words += 1;
        }
        this.lastVoiced = this.samples;
      } else if (
        this.speechStart !== undefined &&
        (this.samples - this.lastVoiced) / this.rate >= END_SILENCE &&
        ended === undefined
      ) {
        ended = this.final();
      }
    }
    if (ended !== undefined) return ended;
    return JSON.stringify({ partial: this.speechStart !== undefined ? `w${this.words}` : '' });
  }

  async finish(): Promise<string> {
    return this.speechStart !== undefined ? this.final() : '{"text": ""}';
  }

  async close(): Promise<void> {}
}

export const vadEngine: Engine = {
  name: 'vad-test',
  defaultSampleRate: 16000,
  checkSampleRate: (rate) => (rate === 16000 ? undefined : 'the test engine takes 16000 Hz'),
  createSession: (options: EngineSessionOptions) => new VadSession(options.sampleRate),
};

/** 16 kHz PCM: `voiced` seconds of a constant non-zero level, or silence, in turn. */
export function speechPattern(parts: ReadonlyArray<{ voiced: boolean; seconds: number }>): Buffer {
  const chunks = parts.map(({ voiced, seconds }) => {
    const buffer = Buffer.alloc(Math.round(seconds * 16000) * 2);
    if (voiced) for (let i = 0; i < buffer.length; i += 2) buffer.writeInt16LE(1000, i);
    return buffer;
  });
  return Buffer.concat(chunks);
}
