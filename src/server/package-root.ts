import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The CommonJS build rewrites import.meta.url (scripts/build.mjs), so this line
// serves both module formats.
// The ESM check has no error here and the CommonJS build has TS1470, so only
// that directive fits both.
// biome-ignore lint/suspicious/noTsIgnore: see above
// @ts-ignore TS1470 in the CommonJS build
const here: string = dirname(fileURLToPath(import.meta.url));

let cached: string | undefined;

/** The folder of this package (where package.json, native/ and samples/ are). */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = here;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'rxjs-transcribe') {
        cached = dir;
        return dir;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`rxjs-transcribe: cannot find the package folder above ${here}`);
    dir = parent;
  }
}

/** `require` as this package resolves modules: its dependencies, wherever the install put them. */
export function packageRequire(): NodeJS.Require {
  return createRequire(join(packageRoot(), 'package.json'));
}
