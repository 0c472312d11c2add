import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/start-server.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SAMPLE = `${ROOT}samples/sense-and-sensibility-0870.wav`;
const CHROMIUM = '/usr/bin/chromium';

let bundle: string;
let pages: Server;
let pagesUrl: string;
let stt: RunningServer;
/** A server that takes frames of at most 1 KiB: the library's 100 ms frames (3,200 bytes) get a 1009 close. */
let strict: RunningServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(`${ROOT}dist/esm/index.js`))
    throw new Error('the browser test bundles dist/: run npm test (or npm run build)');
  const result = await build({
    entryPoints: [`${ROOT}spec/browser/page-entry.ts`],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
  bundle = result.outputFiles[0]!.text;
  pages = createServer((request, response) => {
    if (request.url === '/bundle.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else if (request.url === '/sample.wav') {
      response.writeHead(200, { 'content-type': 'audio/wav' }).end(readFileSync(SAMPLE));
    } else {
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>rxjs-transcribe</title><script type="module" src="/bundle.js"></script>');
    }
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  stt = await startServer({ port: 0, engine: 'pocketsphinx' });
  strict = await startServer({ port: 0, engine: 'synthetic', maxFrameBytes: 1024 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stt?.close();
  await strict?.close();
  await new Promise<void>((resolve) => (pages ? pages.close(() => resolve()) : resolve()));
});

async function inPage(server = stt): Promise<unknown> {
  const page = await browser.newPage();
  try {
    await page.goto(pagesUrl);
    await page.waitForFunction(() => 'transcribeInPage' in globalThis);
    return await page.evaluate(
      ([audio, server, rate]) =>
        (
          globalThis as unknown as {
            transcribeInPage: (a: string, s: string, r?: number) => Promise<unknown>;
          }
        ).transcribeInPage(audio, server, rate),
      [`${pagesUrl}/sample.wav`, server.url, undefined] as const,
    );
  } finally {
    await page.close();
  }
}

describe('in Chromium', () => {
  it('bundles for the browser without ws or Node built-ins', () => {
    expect(bundle).not.toMatch(/ws does not work in the browser/);
    expect(bundle).not.toMatch(/from\s*["']node:/);
    expect(bundle).not.toMatch(/require\(["'](ws|node:|fs)/);
  });

  it('transcribes a fetched WAV through the standard WebSocket, word for word as in Node', async () => {
    const events = (await inPage()) as Array<{
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
    const page = await browser.newPage();
    try {
      await page.goto(pagesUrl);
      await page.waitForFunction(() => 'doorsInPage' in globalThis);
      const [observed, doors] = await Promise.all([
        inPage(),
        page.evaluate(
          ([audio, server]) =>
            (
              globalThis as unknown as { doorsInPage: (a: string, s: string) => Promise<unknown> }
            ).doorsInPage(audio, server),
          [`${pagesUrl}/sample.wav`, stt.url] as const,
        ),
      ]);
      const text = (observed as Array<{ type: string; text: string }>)
        .filter((e) => e.type === 'final')
        .map((e) => e.text)
        .join(' ');
      expect(text).not.toBe('');
      // A path needs Node: in the browser, the bad-audio error of fromFile's browser build.
      expect(doors).toEqual({ file: text, iterated: text, piped: text, path: 'bad-audio' });
    } finally {
      await page.close();
    }
  });

  it('keeps the close code and reason on the error in the browser too', async () => {
    const result = (await inPage(strict)) as { error: { kind: string; closeCode: number; message: string } };
    expect(result.error).toMatchObject({ kind: 'protocol', closeCode: 1009, retryable: false });
    expect(result.error.message).toMatch(
      /^server closed with 1009: audio frame of 3200 bytes is over the limit of 1024/,
    );
  });
});
