import { floatToInt16, int16ToFloat } from '../audio/pcm-convert.js';
import { Resampler } from '../audio/resampler.js';

/**
 * 16-bit little-endian mono PCM at a client's rate, turned into the engine's
 * rate with the library's band-limited resampler (8 kHz telephony to the
 * 16 kHz model, for instance). State carries across frames; `flush()` gives
 * the filter's tail at the end of the stream.
 */
export class PcmRateConverter {
  private readonly resampler: Resampler;

  constructor(
    readonly inputRate: number,
    readonly outputRate: number,
  ) {
    this.resampler = new Resampler(inputRate, outputRate);
  }

  /** The engine's PCM for these whole samples. */
  push(pcm: Buffer): Uint8Array {
    return bytesOf(floatToInt16(this.resampler.process(int16ToFloat(samplesOf(pcm)))));
  }

  /** What the filter still holds: the end of the stream's audio. */
  flush(): Uint8Array {
    return bytesOf(floatToInt16(this.resampler.flush()));
  }
}

/** 16-bit samples over the bytes (copied when they are not 2-aligned, as a pooled Buffer may be). */
function samplesOf(pcm: Buffer): Int16Array {
  if (pcm.byteOffset % 2 === 0) return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
  return new Int16Array(Uint8Array.prototype.slice.call(pcm).buffer);
}

function bytesOf(samples: Int16Array): Uint8Array {
  return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
}
