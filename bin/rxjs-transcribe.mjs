#!/usr/bin/env node
import { existsSync } from 'node:fs';

const entry = new URL('../dist/esm/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('rxjs-transcribe: the package is not built; run `npm run build` in its folder\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
