// Test helpers for the microphone in Chromium: the page bundle and its server,
// padded WAVs for the fake capture device, and a browser per file.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { parseWavHeader } from '../../src/audio/wav-header.js';
import { wordErrorRate } from '../../src/cli/word-error-rate.js';
import { continuousWords, wavHeader, wavPcm } from '../helpers/audio.js';

const ROOT = new URL('../..', import.meta.url).pathname;
export const CHROMIUM = '/usr/bin/chromium';

/** Bundles the page entry as a browser bundler would, with `rxjs-transcribe` from dist/. */
export async function bundlePage(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** Serves the bundle at /bundle.js and a page that loads it, on loopback; returns its origin. */
export async function servePage(bundle: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (request.url === '/bundle.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else {
      // `?csp=POLICY`: the page under that Content-Security-Policy.
      const csp = new URL(request.url ?? '/', 'http://x').searchParams.get('csp');
      response
        .writeHead(200, {
          'content-type': 'text/html',
          ...(csp !== null ? { 'content-security-policy': csp } : {}),
        })
        .end('<!doctype html><title>microphone</title><script type="module" src="/bundle.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/**
 * A copy of a 16-bit WAV with digital silence before (the capture starts a little after the
 * device) and after (with %noloop Chromium repeats the last buffer at the end). Returns its
 * path and its length in ms.
 */
export function paddedWav(
  path: string,
  dir: string,
  beforeMs = 1000,
  afterMs = 2000,
): { path: string; ms: number } {
  const header = parseWavHeader(readFileSync(path));
  if (header.status !== 'ok') throw new Error(`${path}: ${header.status}`);
  const { sampleRate, channels } = header.format;
  const frameBytes = 2 * channels;
  const silence = (ms: number) => Buffer.alloc(Math.round((ms * sampleRate) / 1000) * frameBytes);
  const pcm = Buffer.concat([silence(beforeMs), wavPcm(path), silence(afterMs)]);
  const out = join(dir, `padded-${beforeMs}-${afterMs}-${basename(path)}`);
  writeFileSync(out, Buffer.concat([wavHeader(pcm.length, sampleRate, channels), pcm]));
  return { path: out, ms: (pcm.length / frameBytes / sampleRate) * 1000 };
}

export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'rxjs-transcribe-mic-'));
}

const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Chromium with `wav` as the microphone (the fake device: 44.1 kHz stereo whatever the
 * file), prompts answered yes unless `prompt` is false. One file per launch.
 */
export function launchWithMicrophone(
  wav: string | undefined,
  options: { prompt?: boolean; autoplay?: string; args?: readonly string[] } = {},
): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      ...BASE_ARGS,
      '--use-fake-device-for-media-stream',
      ...(options.prompt === false ? [] : ['--use-fake-ui-for-media-stream']),
      ...(wav !== undefined ? [`--use-file-for-fake-audio-capture=${wav}%noloop`] : []),
      `--autoplay-policy=${options.autoplay ?? 'no-user-gesture-required'}`,
      ...(options.args ?? []),
    ],
  });
}

/** Opens `url` and waits for the bundle's functions. */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => 'transcribeMicrophone' in globalThis);
  return page;
}

/** Calls one of the page's functions with JSON arguments. */
export function call<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([fn, values]) =>
      (globalThis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[fn as string]!(
        ...(values as unknown[]),
      ),
    [name, args] as const,
  ) as Promise<T>;
}

/**
 * What pocketsphinx_continuous says for the file with the capture's leading silence, at each
 * phase of the recogniser's 10 ms frames, one run after another. A capture starts at no
 * particular sample, and a shift of 2.5 ms alone turns "guess what and then at" into
 * "s. would end and" for 0870 (and "woman" into "wall and" for 0920) in
 * pocketsphinx_continuous itself: the browser's words are compared with the closest reading.
 */
export async function continuousAtEachPhase(path: string, dir: string): Promise<string[]> {
  const readings: string[] = [];
  for (const shift of [0, 2.5, 5, 7.5]) {
    const words = await continuousWords(paddedWav(path, dir, 1000 + shift).path);
    if (words.length === 0) throw new Error(`pocketsphinx_continuous heard nothing in ${path}`);
    readings.push(words.join(' '));
  }
  return readings;
}

/** The reading `heard` is closest to, its word error rate against it, and the counts behind it. */
export function closestReading(
  readings: readonly string[],
  heard: string,
): { wer: number; edits: number; words: number; reference: string } {
  return readings
    .map((reference) => {
      const { rate, substitutions, deletions, insertions, referenceWords } = wordErrorRate(reference, heard);
      return { wer: rate, edits: substitutions + deletions + insertions, words: referenceWords, reference };
    })
    .reduce((best, next) => (next.wer < best.wer ? next : best));
}
