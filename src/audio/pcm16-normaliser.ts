import { badAudio } from '../errors/transcription-error.js';
import {
  type AudioChunk,
  type AudioFormat,
  assertAudioChunk,
  assertFormat,
  describeFormat,
  sameFormat,
} from './audio-format.js';
import { downmixInt16, downmixToFloat, floatToInt16 } from './pcm-convert.js';
import { Resampler } from './resampler.js';

/**
 * Turns chunks of any format into 16-bit mono PCM at one rate, one chunk at
 * a time: the state behind `toPcm16`, kept as a plain object so that a
 * session can run it inline, with no operator (and no subscriber) per step.
 */
export class Pcm16Normaliser {
  private input: AudioFormat | undefined;
  private output: AudioFormat | undefined;
  private resampler: Resampler | undefined;
  /** The input is in the output format already: chunks pass as they are. */
  private passThrough = false;

  /**
   * `sampleRate`: the rate to resample to; by default the input's rate is kept.
   * `where` names the caller in error messages.
   */
  constructor(
    private readonly sampleRate?: number,
    private readonly where = 'toPcm16',
  ) {}

  /**
   * The chunk in the output format: the same chunk if it is in it already,
   * undefined if a resampler has nothing to give yet. Throws a bad-audio
   * TranscriptionError for anything that is not an AudioChunk of a supported
   * format (see `assertFormat`), or if the format changes mid-stream.
   */
  push(chunk: AudioChunk): AudioChunk | undefined {
    assertAudioChunk(chunk, this.where);
    const input = this.input;
    if (input === undefined) {
      assertFormat(chunk.format, `${this.where}: the audio`);
      this.input = chunk.format;
      const sampleRate = this.sampleRate ?? chunk.format.sampleRate;
      this.output = { sampleRate, channels: 1, encoding: 'pcm_s16le' };
      if (sampleRate !== chunk.format.sampleRate) {
        this.resampler = new Resampler(chunk.format.sampleRate, sampleRate);
      }
      this.passThrough = sameFormat(chunk.format, this.output);
    } else if (input !== chunk.format && !sameFormat(input, chunk.format)) {
      throw badAudio(
        `${this.where}: the audio changed format mid-stream, from ${describeFormat(input)} to ${describeFormat(chunk.format)}`,
      );
    }
    if (this.passThrough) return chunk;
    const from = this.input!;
    const output = this.output!;
    let samples: Int16Array;
    if (this.resampler !== undefined) {
      samples = floatToInt16(this.resampler.process(downmixToFloat(chunk.samples, from.channels)));
    } else if (chunk.samples instanceof Int16Array) {
      samples = downmixInt16(chunk.samples, from.channels);
    } else {
      samples = floatToInt16(downmixToFloat(chunk.samples, from.channels));
    }
    return samples.length > 0 ? { format: output, samples } : undefined;
  }

  /** The resampler's tail at the end of the stream, if there is one. */
  flush(): AudioChunk | undefined {
    if (this.resampler === undefined) return undefined;
    const tail = floatToInt16(this.resampler.flush());
    this.resampler = undefined;
    return tail.length > 0 ? { format: this.output!, samples: tail } : undefined;
  }
}
