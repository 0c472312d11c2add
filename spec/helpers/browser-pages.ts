import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';

const ROOT = new URL('../..', import.meta.url).pathname;

/** The page server of the browser tests: the library's bundle (spec/browser/page-entry.ts, from dist/) and the audio files a page fetches. */
export interface BrowserPages {
  /** `http://127.0.0.1:PORT`: a page that loads the bundle. */
  readonly url: string;
  /** The bundle's text, to check what went into it. */
  readonly bundle: string;
  close(): Promise<void>;
}

/** Files the pages may fetch, by path (`/sample.wav`). */
export type PageFiles = Readonly<Record<string, string>>;

/** Bundles page-entry.ts for the browser with esbuild and serves it with `files` on loopback. */
export async function serveBrowserPages(
  files: PageFiles,
  entry = 'spec/browser/page-entry.ts',
): Promise<BrowserPages> {
  if (!existsSync(`${ROOT}dist/esm/index.js`))
    throw new Error('the browser tests bundle dist/: run npm test (or npm run build)');
  const result = await build({
    entryPoints: [`${ROOT}${entry}`],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
  const bundle = result.outputFiles[0]!.text;
  const server = createServer((request, response) => {
    const file = files[request.url ?? ''];
    if (request.url === '/bundle.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else if (file !== undefined) {
      response.writeHead(200, { 'content-type': 'audio/wav' }).end(readFileSync(file));
    } else {
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>rxjs-transcribe</title><script type="module" src="/bundle.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bundle,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
