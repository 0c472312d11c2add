import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseWavHeader } from '../../src/audio/wav-header.js';

export const LIBRIVOX_DIR = '/usr/share/pocketsphinx/test/data/librivox';

/** The five LibriVox recordings of Debian's pocketsphinx-testdata. */
export function librivoxFiles(): string[] {
  return readdirSync(LIBRIVOX_DIR)
    .filter((name) => name.endsWith('.wav'))
    .sort()
    .map((name) => join(LIBRIVOX_DIR, name));
}

/** The PCM bytes of a WAV file (after its header). */
export function wavPcm(path: string): Buffer {
  const bytes = readFileSync(path);
  const header = parseWavHeader(bytes);
  if (header.status !== 'ok') throw new Error(`${path}: ${header.status}`);
  return bytes.subarray(header.dataOffset);
}

/** Deterministic noise-like 16-bit PCM, `seconds` long at `rate`. */
export function syntheticPcm(seconds: number, rate = 16000, seed = 1): Buffer {
  const samples = Math.round(seconds * rate);
  const out = Buffer.alloc(samples * 2);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < samples; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out.writeInt16LE((state >>> 16) - 32768, i * 2);
  }
  return out;
}

/** What the synthetic engine must say for this PCM: computed here independently of the server. */
export function expectedSyntheticWords(
  pcm: Uint8Array,
  rate = 16000,
): Array<{ word: string; start: number; end: number }> {
  const perSecond = rate * 2;
  const words: Array<{ word: string; start: number; end: number }> = [];
  for (let offset = 0, second = 0; offset < pcm.length; offset += perSecond, second++) {
    const part = pcm.subarray(offset, Math.min(offset + perSecond, pcm.length));
    const hex = createHash('sha256').update(part).digest('hex').slice(0, 8);
    words.push({ word: `w${hex}`, start: second, end: second + part.length / perSecond });
  }
  return words;
}

/** A 44-byte canonical WAV header for 16-bit PCM. */
export function wavHeader(dataBytes: number, rate = 16000, channels = 1, bits = 16, formatCode = 1): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(formatCode, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE((rate * channels * bits) / 8, 28);
  header.writeUInt16LE((channels * bits) / 8, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** Writes `seconds` of syntheticPcm as a 16 kHz WAV file in `dir`; returns its path and PCM. */
export function writeSyntheticWav(dir: string, seconds: number, seed: number): { path: string; pcm: Buffer } {
  const pcm = syntheticPcm(seconds, 16000, seed);
  const path = join(dir, `synthetic-${seconds}s-${seed}.wav`);
  writeFileSync(path, Buffer.concat([wavHeader(pcm.length), pcm]));
  return { path, pcm };
}

/** What pocketsphinx_continuous prints for a file: its words, in order (the reference of every recognition test). */
export async function continuousWords(path: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('pocketsphinx_continuous', [
    '-infile',
    path,
    '-logfn',
    '/dev/null',
  ]);
  return stdout.split(/\s+/).filter(Boolean);
}

/** Every word of the finals, with its times. */
export function timedWords(
  events: ReadonlyArray<{
    type: string;
    words: ReadonlyArray<{ text: string; startMs: number; endMs: number }>;
  }>,
): Array<{ text: string; startMs: number; endMs: number }> {
  return events
    .filter((e) => e.type === 'final')
    .flatMap((e) => e.words.map((w) => ({ text: w.text, startMs: w.startMs, endMs: w.endMs })));
}

/** The synthetic engine's words for this PCM, as timed words of TranscriptEvents. */
export function expectedTimedWords(pcm: Uint8Array): Array<{ text: string; startMs: number; endMs: number }> {
  return expectedSyntheticWords(pcm).map((w) => ({
    text: w.word,
    startMs: w.start * 1000,
    endMs: w.end * 1000,
  }));
}
