// Loads a TypeScript module of the repository (a spec helper, say) from a
// plain .mjs benchmark: Node 20 cannot import .ts, so esbuild bundles it
// into a temporary .mjs file, which is imported and then removed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { root } from './lib.mjs';

/** Imports `entry` (a path from the repository root, e.g. 'spec/helpers/fault-proxy.ts'). */
export async function loadTs(entry) {
  const result = await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Packages are bundled too: the temporary file is outside the repository's node_modules.
    write: false,
    absWorkingDir: root,
    logLevel: 'silent',
  });
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-load-ts-'));
  const file = join(dir, 'module.mjs');
  try {
    writeFileSync(file, result.outputFiles[0].text);
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
