import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../package-root.js';

const run = promisify(execFile);

/** The Debian packages the pocketsphinx engine needs. */
export const POCKETSPHINX_PACKAGES = ['pocketsphinx', 'pocketsphinx-en-us', 'libpocketsphinx-dev'] as const;

/** The apt-get line that installs them. */
export const POCKETSPHINX_APT_LINE = `apt-get install -y ${POCKETSPHINX_PACKAGES.join(' ')}`;

/** The engine's C source, shipped with the package. */
export function pocketsphinxSourcePath(): string {
  return join(packageRoot(), 'native', 'pocketsphinx-engine.c');
}

async function writableDir(preferred: string): Promise<string> {
  try {
    await mkdir(preferred, { recursive: true });
    return preferred;
  } catch {
    const fallback = join(tmpdir(), 'rxjs-transcribe');
    await mkdir(fallback, { recursive: true });
    return fallback;
  }
}

let building: Promise<string> | undefined;

/**
 * Path of the compiled engine, building it from native/pocketsphinx-engine.c
 * with the system C compiler and pkg-config when it is missing or its source
 * changed (the file name carries the source's hash). Throws with the apt-get
 * line to run when the recogniser's packages are missing.
 */
export function pocketsphinxBinary(): Promise<string> {
  building ??= build().catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}

async function build(): Promise<string> {
  const source = pocketsphinxSourcePath();
  const text = await readFile(source);
  const tag = createHash('sha256').update(text).digest('hex').slice(0, 12);
  const dir = await writableDir(join(packageRoot(), 'build'));
  const binary = join(dir, `pocketsphinx-engine-${tag}`);
  if (existsSync(binary)) return binary;

  let flags: string[];
  try {
    const { stdout } = await run('pkg-config', ['--cflags', '--libs', 'pocketsphinx']);
    flags = stdout.trim().split(/\s+/);
  } catch {
    throw new Error(
      `the pocketsphinx engine needs the Debian packages ${POCKETSPHINX_PACKAGES.join(', ')} (and pkg-config, a C compiler); run: ${POCKETSPHINX_APT_LINE}`,
    );
  }
  const partial = `${binary}.${process.pid}.tmp`;
  try {
    await run(process.env.CC ?? 'cc', ['-O2', '-o', partial, source, ...flags]);
    await rename(partial, binary); // atomic: concurrent builders race harmlessly
  } catch (error) {
    await rm(partial, { force: true });
    const detail = (error as { stderr?: string }).stderr?.trim() ?? String(error);
    throw new Error(`could not compile the pocketsphinx engine: ${detail}`);
  }
  return binary;
}
