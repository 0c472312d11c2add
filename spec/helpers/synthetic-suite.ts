import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/start-server.js';

/**
 * For a spec file: the reference server on the synthetic engine, started before
 * its tests and closed after them, and a temporary folder for its audio files.
 */
export function syntheticSuite(prefix: string): { readonly server: RunningServer; readonly dir: string } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  let server: RunningServer | undefined;
  beforeAll(async () => {
    server = await startServer({ port: 0, engine: 'synthetic' });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get server() {
      if (server === undefined) throw new Error('the synthetic server starts in beforeAll');
      return server;
    },
    dir,
  };
}
