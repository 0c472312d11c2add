import { floatToInt16, int16ToFloat } from '../../audio/pcm-convert.js';
import { Resampler } from '../../audio/resampler.js';
import { OPENAI_PCM_RATE } from './session-config.js';

/**
 * The 24 kHz PCM16 of the input audio buffer as an engine takes it: as it is
 * when the engine takes 24 kHz (the synthetic engine, so its words stay a
 * function of the bytes a client sent), otherwise resampled to the engine's
 * rate (16 kHz for PocketSphinx's model) with the library's band-limited
 * resampler. One per engine session: its filter tail is flushed at a commit.
 */
export class EngineFeed {
  private readonly resampler: Resampler | undefined;

  constructor(readonly engineRate: number) {
    this.resampler = engineRate === OPENAI_PCM_RATE ? undefined : new Resampler(OPENAI_PCM_RATE, engineRate);
  }

  /** The engine's PCM for these whole 24 kHz samples (little-endian bytes). */
  push(pcm: Buffer): Uint8Array {
    if (this.resampler === undefined) return pcm;
    return bytesOf(floatToInt16(this.resampler.process(int16ToFloat(samplesOf(pcm)))));
  }

  /** What the resampler still holds (its filter's tail): the end of this engine session's audio. */
  flush(): Uint8Array {
    if (this.resampler === undefined) return new Uint8Array(0);
    return bytesOf(floatToInt16(this.resampler.flush()));
  }
}

/** 16-bit samples over the bytes (copied when the bytes are not 2-aligned, as a pooled Buffer may be). */
function samplesOf(pcm: Buffer): Int16Array {
  if (pcm.byteOffset % 2 === 0) return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
  return new Int16Array(Uint8Array.prototype.slice.call(pcm).buffer);
}

function bytesOf(samples: Int16Array): Uint8Array {
  return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
}
