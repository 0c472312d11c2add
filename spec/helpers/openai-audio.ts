import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { floatToInt16, int16ToFloat } from '../../src/audio/pcm-convert.js';
import { Resampler } from '../../src/audio/resampler.js';
import { continuousWords, wavHeader, wavPcm } from './audio.js';

/** PCM16 from one rate to another with the library's resampler (16 to 24 kHz is what `transcribe` sends OpenAI). */
export function resamplePcm(pcm: Buffer, from: number, to: number): Buffer {
  const resampler = new Resampler(from, to);
  const samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length));
  const head = resampler.process(int16ToFloat(samples));
  const tail = resampler.flush();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return Buffer.from(floatToInt16(out).buffer);
}

/**
 * What pocketsphinx_continuous says of a 16 kHz file once it has been to
 * 24 kHz and back, as OpenAI's protocol takes it there and the emulator
 * brings it back for its 16 kHz model: the two band-limitings (cut-off at 0.9
 * of 8 kHz) change a few words of one LibriVox file (0870), none of the
 * others, so this is the reference for audio that went through OpenAI's rate.
 */
export async function roundTripWords(file: string, dir: string, name: string): Promise<string[]> {
  const back = resamplePcm(resamplePcm(wavPcm(file), 16000, 24000), 24000, 16000);
  const path = join(dir, `round-trip-${name}`);
  writeFileSync(path, Buffer.concat([wavHeader(back.length), back]));
  return continuousWords(path);
}

/** Word-level Levenshtein distance. */
export function wordDistance(a: readonly string[], b: readonly string[]): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}
