// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with types.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.cjs.json')], { stdio: 'inherit' });
writeFileSync(join(root, 'dist', 'cjs', 'package.json'), '{ "type": "commonjs" }\n');

// CommonJS has no import.meta: give the few modules that ask for their own
// location the CommonJS equivalent.
const META = 'import.meta.url';
const CJS_META = 'require("node:url").pathToFileURL(__filename).href';
function rewrite(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) rewrite(path);
    else if (entry.name.endsWith('.js')) {
      const text = readFileSync(path, 'utf8');
      if (text.includes(META)) writeFileSync(path, text.split(META).join(CJS_META));
    }
  }
}
rewrite(join(root, 'dist', 'cjs'));
