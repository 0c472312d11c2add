// fromMicrophone in Debian's Chromium, with a LibriVox WAV as the microphone (Chromium's
// fake capture device), through the library's browser bundle and the reference server.
import { existsSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { basename } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { librivoxFiles } from '../helpers/audio.js';
import {
  bundlePage,
  call,
  closestReading,
  continuousAtEachPhase,
  launchWithMicrophone,
  openPage,
  paddedWav,
  scratchDir,
  servePage,
} from './microphone-browser.js';

const ROOT = new URL('../..', import.meta.url).pathname;

interface Flow {
  producedSamples: number;
  emittedSamples: number;
  droppedSamples: number;
  bufferedSamples: number;
  sampleRate: number;
}
interface MicStats {
  contextSampleRate: number;
  capturedFrames: number;
  capturedMs: number;
  emittedSamples: number;
  frames: number;
}
interface Opened {
  contexts: string[];
  tracks: string[];
}
type Failure = { error: { reason: string; kind: string; message: string } } & Opened;

let pages: Server;
let url: string;
let stt: RunningServer;
let dir: string;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(`${ROOT}dist/esm/index.js`))
    throw new Error('the browser test bundles dist/: run npm test (or npm run build)');
  ({ server: pages, url } = await servePage(await bundlePage(`${ROOT}spec/browser/microphone-page.ts`)));
  stt = await startServer({ port: 0, engine: 'pocketsphinx' });
  dir = scratchDir();
}, 120_000);

afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

afterAll(async () => {
  await stt?.close();
  await new Promise<void>((resolve) => (pages ? pages.close(() => resolve()) : resolve()));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Each file's edits against its closest reading, and its words: the set's WER is their sums' ratio. */
const scored = new Map<string, { edits: number; words: number }>();

describe('fromMicrophone in Chromium, a LibriVox file as the microphone', () => {
  it.each(librivoxFiles().map((path) => [basename(path), path]))(
    '%s: the words of pocketsphinx_continuous, and not a sample dropped',
    async (_name, path) => {
      // First, so that the recogniser runs do not take the CPU from the live capture.
      const readings = await continuousAtEachPhase(path, dir);
      const wav = paddedWav(path, dir);
      browser = await launchWithMicrophone(wav.path);
      const page = await openPage(browser, url);
      const result = await call<{ events: Array<{ type: string; text: string }>; mic: MicStats; flow: Flow }>(
        page,
        'transcribeMicrophone',
        stt.url,
        wav.ms,
        // Text only: the reference engine can report a word's confidence as 1.0001 (a posterior
        // rounded above 1 in its log domain), which the client rightly refuses; that is the
        // engine's to fix (native/pocketsphinx-engine.c), not this test's subject.
        false,
      );
      const heard = result.events
        .filter((e) => e.type === 'final')
        .map((e) => e.text)
        .join(' ');
      const { wer, edits, words, reference } = closestReading(readings, heard);
      scored.set(path, { edits, words });
      // A file alone may miss a word (one of 0880's 8 is 12.5%): the 10% is the set's, below.
      expect(wer, `heard "${heard}" for "${reference}"`).toBeLessThanOrEqual(0.25);
      const { mic, flow } = result;
      // The whole file was captured, and everything the worklet took in came out at 16 kHz...
      expect(mic.capturedMs).toBeGreaterThanOrEqual(wav.ms);
      expect(mic.emittedSamples).toBe(Math.ceil((mic.capturedFrames * 16000) / mic.contextSampleRate));
      // ...and reached the session, which dropped none of it and sent it all.
      expect(flow.sampleRate).toBe(16000);
      expect(flow.producedSamples).toBe(mic.emittedSamples);
      expect(flow.droppedSamples).toBe(0);
      expect(flow.emittedSamples).toBe(flow.producedSamples);
    },
  );

  it('comes within 10% word error rate of pocketsphinx_continuous over the five files', () => {
    expect([...scored.keys()]).toEqual(librivoxFiles());
    const edits = [...scored.values()].reduce((sum, s) => sum + s.edits, 0);
    const words = [...scored.values()].reduce((sum, s) => sum + s.words, 0);
    expect(edits / words, `${edits} edits in ${words} words`).toBeLessThanOrEqual(0.1);
  });
});

describe('fromMicrophone in Chromium: lifecycle and errors', () => {
  it('opens a capture per subscription, and unsubscribing stops its tracks and closes its context', async () => {
    browser = await launchWithMicrophone(paddedWav(librivoxFiles()[0]!, dir).path);
    const page = await openPage(browser, url);
    const result = await call<{ counts: number[]; frameSizes: number[]; format: unknown } & Opened>(
      page,
      'lifecycle',
    );
    expect(result.counts).toEqual([5, 3]);
    expect(result.format).toEqual({ sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' });
    expect(new Set(result.frameSizes)).toEqual(new Set([320])); // 20 ms at 16 kHz
    expect(result.contexts).toEqual(['closed', 'closed']);
    expect(result.tracks).toEqual(['ended', 'ended']);
  });

  it('keeps the session open while muted: silent frames go on, then sound again', async () => {
    browser = await launchWithMicrophone(paddedWav(librivoxFiles()[0]!, dir).path);
    const page = await openPage(browser, url);
    const result = await call<
      {
        trackEnabled: boolean;
        soundBefore: number[];
        mutedPeaks: number[];
        soundAfter: boolean;
        statusesBeforeStop: string[];
        finals: number;
      } & Opened
    >(page, 'mute', stt.url);
    expect(result.trackEnabled).toBe(false);
    expect(result.soundBefore.some((peak) => peak > 0)).toBe(true);
    expect(result.mutedPeaks).toHaveLength(25);
    expect(result.mutedPeaks.every((peak) => peak === 0)).toBe(true);
    expect(result.soundAfter).toBe(true);
    // One connection, open throughout, and the stop still settled what was said.
    expect(result.statusesBeforeStop.filter((s) => s !== 'connecting' && s !== 'open')).toEqual([]);
    expect(result.finals).toBeGreaterThan(0);
    expect(result.contexts).toEqual(['closed']);
    expect(result.tracks).toEqual(['ended']);
  });

  it('errors with no-device for a deviceId that does not exist, and with insecure-context on plain http', async () => {
    browser = await launchWithMicrophone(undefined, {
      args: ['--host-resolver-rules=MAP mic.test 127.0.0.1'],
    });
    const page = await openPage(browser, url);
    const missing = await call<Failure>(page, 'microphoneError', { deviceId: 'no-such-microphone' });
    expect(missing.error).toMatchObject({ reason: 'no-device', kind: 'bad-audio' });
    expect(missing.error.message).toMatch(/no-such-microphone.*enumerateDevices/);
    expect(missing.contexts).toEqual(['closed']);
    // http on a name other than localhost is not a secure context: no microphone there.
    const insecure = await openPage(browser, url.replace('127.0.0.1', 'mic.test'));
    const refused = await call<Failure>(insecure, 'microphoneError', {});
    expect(refused.error).toMatchObject({ reason: 'insecure-context' });
    expect(refused.error.message).toMatch(/mic\.test.*https/);
    expect(refused.contexts).toEqual([]);
  });

  it('errors with permission-denied when the prompt is refused', async () => {
    browser = await launchWithMicrophone(undefined, { prompt: false }); // headless refuses prompts
    const page = await openPage(browser, url);
    const result = await call<Failure>(page, 'microphoneError', {});
    expect(result.error).toMatchObject({ reason: 'permission-denied', kind: 'bad-audio' });
    expect(result.error.message).toMatch(/allow the microphone/);
    expect(result.contexts).toEqual(['closed']);
    expect(result.tracks).toEqual([]);
  });

  it('errors with device-lost when the track ends mid-stream (the permission revoked)', async () => {
    browser = await launchWithMicrophone(paddedWav(librivoxFiles()[0]!, dir).path);
    const page = await openPage(browser, url);
    const lost = call<Failure>(page, 'untilLost');
    await page.waitForFunction(() => (globalThis as { capturing?: boolean }).capturing === true);
    const { targetInfo } = await (await page.context().newCDPSession(page)).send('Target.getTargetInfo');
    await (await browser.newBrowserCDPSession()).send('Browser.setPermission', {
      permission: { name: 'microphone' },
      setting: 'denied',
      origin: url,
      browserContextId: targetInfo.browserContextId,
    });
    const result = await lost;
    expect(result.error).toMatchObject({ reason: 'device-lost', kind: 'bad-audio' });
    expect(result.error.message).toMatch(/unplugged/);
    expect(result.contexts).toEqual(['closed']);
    expect(result.tracks).toEqual(['ended']);
  });

  it('errors with suspended when the AudioContext does not start (no user gesture)', async () => {
    browser = await launchWithMicrophone(undefined);
    const page = await openPage(browser, url);
    const result = await call<Failure>(page, 'microphoneError', { resumeTimeoutMs: 500 }, true);
    expect(result.error).toMatchObject({ reason: 'suspended', kind: 'bad-audio' });
    expect(result.error.message).toMatch(/user gesture/);
    expect(result.contexts).toEqual(['closed']);
    expect(result.tracks).toEqual(['ended']);
  });

  it('loads its worklet under a strict CSP that allows blob: in script-src, and says what to allow when it is not', async () => {
    browser = await launchWithMicrophone(undefined);
    const strict = "default-src 'none'; script-src 'self'; connect-src 'self'";
    const refusing = await openPage(browser, `${url}/?csp=${encodeURIComponent(strict)}`);
    const refused = await call<Failure>(refusing, 'microphoneError', {});
    expect(refused.error).toMatchObject({ reason: 'unsupported' });
    expect(refused.error.message).toMatch(/Content-Security-Policy.*blob: in script-src/);
    expect(refused.contexts).toEqual(['closed']);
    expect(refused.tracks).toEqual(['ended']);
    const allowing = await openPage(
      browser,
      `${url}/?csp=${encodeURIComponent(strict.replace("script-src 'self'", "script-src 'self' blob:"))}`,
    );
    expect(await call(allowing, 'microphoneError', {})).toEqual({ captured: true });
  });
});
