import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { type BrowserPages, serveBrowserPages } from '../helpers/browser-pages.js';
import { launchFirefox } from '../helpers/firefox.js';

/** The library's bundle in real Firefox (Debian's ESR over WebDriver BiDi), as browser.spec.ts does in Chromium. */

const ROOT = new URL('../..', import.meta.url).pathname;
const SAMPLE = `${ROOT}samples/sense-and-sensibility-0870.wav`;

let pages: BrowserPages;
let stt: RunningServer;
/** A server that takes frames of at most 1 KiB: the library's 100 ms frames (3,200 bytes) get a 1009 close. */
let strict: RunningServer;
let browser: Browser;

beforeAll(async () => {
  pages = await serveBrowserPages({ '/sample.wav': SAMPLE });
  stt = await startServer({ port: 0, engine: 'pocketsphinx' });
  strict = await startServer({ port: 0, engine: 'synthetic', maxFrameBytes: 1024 });
  browser = await launchFirefox();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stt?.close();
  await strict?.close();
  await pages?.close();
});

async function onPage<T>(run: (page: Page) => Promise<T>): Promise<T> {
  const page = await browser.newPage();
  try {
    await page.goto(pages.url);
    await page.waitForFunction(() => 'transcribeInPage' in globalThis);
    return await run(page);
  } finally {
    await page.close();
  }
}

function transcribeInPage(page: Page, server = stt): Promise<unknown> {
  return page.evaluate(
    (audio, url) =>
      (
        globalThis as unknown as { transcribeInPage: (a: string, s: string) => Promise<unknown> }
      ).transcribeInPage(audio, url),
    `${pages.url}/sample.wav`,
    server.url,
  );
}

describe('in Firefox', () => {
  it('reports itself as Firefox', async () => {
    expect(await browser.version()).toMatch(/firefox/i);
  });

  it('transcribes a fetched WAV through the standard WebSocket, word for word as pocketsphinx_continuous', async () => {
    const events = (await onPage((page) => transcribeInPage(page))) as Array<{
      type: string;
      text: string;
      words: Array<{ startMs: number }>;
    }>;
    const { stdout } = await promisify(execFile)('pocketsphinx_continuous', [
      '-infile',
      SAMPLE,
      '-logfn',
      '/dev/null',
    ]);
    const finals = events.filter((e) => e.type === 'final');
    expect(finals.flatMap((e) => e.text.split(' '))).toEqual(stdout.split(/\s+/).filter(Boolean));
    expect(events.some((e) => e.type === 'partial')).toBe(true);
    const starts = finals.flatMap((e) => e.words.map((w) => w.startMs));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it('runs the three doors (Promise, async iterator, TranscriptionStream) word for word as the Observable', async () => {
    const [observed, doors] = await onPage(async (page) => [
      await transcribeInPage(page),
      await page.evaluate(
        (audio, server) =>
          (globalThis as unknown as { doorsInPage: (a: string, s: string) => Promise<unknown> }).doorsInPage(
            audio,
            server,
          ),
        `${pages.url}/sample.wav`,
        stt.url,
      ),
    ]);
    const text = (observed as Array<{ type: string; text: string }>)
      .filter((e) => e.type === 'final')
      .map((e) => e.text)
      .join(' ');
    expect(text).not.toBe('');
    expect(doors).toEqual({ file: text, iterated: text, piped: text, path: 'bad-audio' });
  });

  it('keeps the close code and reason on the error', async () => {
    const result = (await onPage((page) => transcribeInPage(page, strict))) as {
      error: { kind: string; closeCode: number; message: string };
    };
    expect(result.error).toMatchObject({ kind: 'protocol', closeCode: 1009, retryable: false });
    expect(result.error.message).toMatch(
      /^server closed with 1009: audio frame of 3200 bytes is over the limit of 1024/,
    );
  });
});
