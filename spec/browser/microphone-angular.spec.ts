// The Angular example (examples/angular), as built by the setup (Node 24, `ng build`),
// served on loopback and used in Chromium with a LibriVox file as the microphone,
// against the reference server: the finals must show on the page.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { librivoxFiles } from '../helpers/audio.js';
import {
  closestReading,
  continuousAtEachPhase,
  launchWithMicrophone,
  paddedWav,
  scratchDir,
} from './microphone-browser.js';

const APP = new URL('../../examples/angular/dist/captions/browser/', import.meta.url).pathname;
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.txt': 'text/plain',
};

let app: Server;
let appUrl: string;
let stt: RunningServer;
let browser: Browser | undefined;
let dir: string;

beforeAll(async () => {
  if (!existsSync(join(APP, 'index.html'))) {
    throw new Error(`no built Angular example at ${APP}: run \`npm run setup\` (it builds examples/angular)`);
  }
  // The built app as a static host serves it: files, and index.html for any other path.
  app = createServer((request, response) => {
    const path = normalize(join(APP, new URL(request.url ?? '/', 'http://x').pathname));
    const file =
      path.startsWith(APP) && existsSync(path) && extname(path) !== '' ? path : join(APP, 'index.html');
    response
      .writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
      .end(readFileSync(file));
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  stt = await startServer({ port: 0, engine: 'pocketsphinx' });
  dir = scratchDir();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stt?.close();
  await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('the Angular example in Chromium', () => {
  it('is bundled for the browser: the standard WebSocket, no ws, the worklet inline', () => {
    const code = readdirSync(APP)
      .filter((name) => name.endsWith('.js'))
      .map((name) => readFileSync(join(APP, name), 'utf8'))
      .join('\n');
    expect(code).not.toMatch(/ws does not work in the browser/);
    expect(code).toContain('rxjs-transcribe-microphone'); // the worklet's processor, in the Blob's code
  });

  it('shows the finals of a LibriVox file spoken into the microphone, after Start and Stop', async () => {
    const path = librivoxFiles().find((name) => name.endsWith('0890.wav'))!;
    const readings = await continuousAtEachPhase(path, dir);
    const wav = paddedWav(path, dir);
    browser = await launchWithMicrophone(wav.path);
    const page = await browser.newPage();
    await page.goto(`${appUrl}/?server=${encodeURIComponent(stt.url)}`);
    const state = page.getByTestId('status');
    await expect.poll(() => state.getAttribute('data-state')).toBe('idle');
    await page.getByTestId('start').click(); // a user gesture, as browsers want for audio
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'open');
    // The level meter moves with the voice.
    await page.waitForFunction(
      () => (document.querySelector('[data-testid=level]') as HTMLMeterElement | null)!.value > 0,
    );
    // Once the whole file has been sent (the page's own count), stop: the last words still come.
    await page.waitForFunction(
      (ms) => Number(document.querySelector('[data-testid=sent-ms]')?.textContent) >= ms,
      wav.ms,
      { timeout: 60_000 },
    );
    await page.getByTestId('stop').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid=status]')?.textContent === 'closed',
      {
        timeout: 30_000,
      },
    );
    const finals = await page.getByTestId('finals').locator('li').allTextContents();
    const { wer, reference } = closestReading(readings, finals.join(' '));
    // As for one file in microphone.spec.ts (0890 has 13 words: each one missed is 7.7%).
    expect(wer, `the page shows "${finals.join(' ')}" for "${reference}"`).toBeLessThanOrEqual(0.25);
    expect(await page.getByTestId('error').count()).toBe(0);
    expect(await page.getByTestId('dropped-ms').textContent()).toBe('0');
    expect(await page.getByTestId('partial').textContent()).toBe('');
  });
});
