// Shared helpers of the benchmarks: options, the deterministic noise WAV, the
// words the synthetic engine must answer with, machine details, and running a
// client in its own process.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const root = new URL('..', import.meta.url).pathname;
/**
 * Where results go: `--out DIR` (or BENCH_OUT), else docs/benchmarks/. The
 * short forms in CI write to a temporary directory, so they never touch the
 * published numbers.
 */
export const outDir = resolve(textOption('out') ?? join(root, 'docs', 'benchmarks'));

export const SAMPLE_RATE = 16_000;
/** 100 ms of 16-bit mono at 16 kHz. */
export const FRAME_BYTES = 3200;
export const WAV_HEADER_BYTES = 44;
export const CONFIG_MESSAGE = `{"config": {"sample_rate": ${SAMPLE_RATE}, "words": true}}`;
export const EOF_MESSAGE = '{"eof" : 1}';

/** A text option: `--name VALUE` or `--name=VALUE`, else BENCH_NAME, else undefined. */
export function textOption(name) {
  const argv = process.argv.slice(2);
  let raw;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) raw = argv[i + 1];
    else if (argv[i].startsWith(`--${name}=`)) raw = argv[i].slice(name.length + 3);
  }
  return raw ?? process.env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`];
}

/**
 * A numeric option: `--name N` or `--name=N` on the command line, else the
 * environment variable (`BENCH_NAME`), else the default. Positive (or 0 too,
 * with `zero`).
 */
export function option(name, fallback, { zero = false } = {}) {
  const raw = textOption(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!(value > 0 || (zero && value === 0)) || !Number.isFinite(value)) {
    throw new RangeError(
      `--${name} must be a ${zero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/**
 * Writes `seconds` of mono 16-bit noise at `sampleRate` (16 kHz by default;
 * xorshift32 from a fixed seed: the same bytes on every run and machine) as a
 * WAV file in the temporary directory, and returns its path and the words the
 * synthetic engine must answer with for 16 kHz audio (one per second: "w" and
 * 8 hex digits of the SHA-256 of that second's PCM; at other rates the server
 * resamples first, so they are not its words).
 */
export function writeNoiseWav(seconds, sampleRate = SAMPLE_RATE) {
  if (!Number.isInteger(seconds)) throw new RangeError(`--seconds must be whole, got ${seconds}`);
  const pcmBytes = seconds * sampleRate * 2;
  const wav = Buffer.alloc(WAV_HEADER_BYTES + pcmBytes);
  wav.write('RIFF', 0, 'latin1');
  wav.writeUInt32LE(36 + pcmBytes, 4);
  wav.write('WAVE', 8, 'latin1');
  wav.write('fmt ', 12, 'latin1');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(sampleRate, 24);
  wav.writeUInt32LE(sampleRate * 2, 28); // byte rate
  wav.writeUInt16LE(2, 32); // block align
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write('data', 36, 'latin1');
  wav.writeUInt32LE(pcmBytes, 40);
  let state = 0x2545f491;
  for (let offset = WAV_HEADER_BYTES; offset < wav.length; offset += 2) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    // Quiet noise: +-8192 of the 16-bit range.
    wav.writeInt16LE((state & 0x3fff) - 0x2000, offset);
  }
  const words = [];
  const second = sampleRate * 2;
  for (let offset = WAV_HEADER_BYTES; offset < wav.length; offset += second) {
    const digest = createHash('sha256')
      .update(wav.subarray(offset, offset + second))
      .digest('hex');
    words.push(`w${digest.slice(0, 8)}`);
  }
  const rate = sampleRate === SAMPLE_RATE ? '' : `-${sampleRate}`;
  const path = join(tmpdir(), `rxjs-transcribe-bench-noise-${seconds}s${rate}-${process.pid}.wav`);
  writeFileSync(path, wav);
  return { path, words, frames: pcmBytes / FRAME_BYTES, pcmBytes };
}

/** A short digest of a word list, to compare what a client heard with what it should have. */
export function wordsDigest(words) {
  return createHash('sha256').update(words.join(' ')).digest('hex').slice(0, 16);
}

/**
 * What code the benchmark ran: the commit, whether src/ had uncommitted
 * changes, when dist/ (what the benchmarks load) was built, and whether any
 * file in src/ is newer than that build. Taken at the start of a run.
 */
export function revision() {
  const git = (...args) => {
    const result = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trim() : undefined;
  };
  const changes = git('status', '--porcelain', '--', 'src');
  const built = join(root, 'dist', 'esm', 'index.js');
  const distBuiltMs = existsSync(built) ? statSync(built).mtimeMs : undefined;
  const newest = (dir) =>
    readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
      const path = join(dir, entry.name);
      return Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }, 0);
  return {
    commit: git('rev-parse', 'HEAD') ?? null,
    srcChanged: changes === undefined ? null : changes !== '',
    distBuiltAt: distBuiltMs === undefined ? null : new Date(distBuiltMs).toISOString(),
    srcNewerThanDist: distBuiltMs === undefined ? null : newest(join(root, 'src')) > distBuiltMs,
  };
}

/** The revision line of a benchmark page. */
export function describeRevision(rev) {
  const commit = `commit \`${rev.commit?.slice(0, 7) ?? 'unknown'}\``;
  if (rev.srcNewerThanDist) {
    return `${commit}, with dist/ built at ${rev.distBuiltAt?.slice(11, 16)} UTC, before the latest edits in src/`;
  }
  return rev.srcChanged ? `${commit} with uncommitted changes in src/` : commit;
}

/**
 * Whether benchmark processes can be pinned to a core each: Linux with
 * `taskset` (util-linux), at least 2 cores, and BENCH_NO_PIN unset. On the
 * 2-core machine the client and the server share, the scheduler moving them
 * between cores changed a client's CPU per run by up to a third, more for a
 * client that waits on replies than for one that does not. Pinned, runs
 * spread less, for every client alike (docs/performance.md, Method).
 */
export const canPin = (() => {
  if (process.platform !== 'linux' || cpus().length < 2 || process.env.BENCH_NO_PIN) return false;
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0;
})();

/**
 * A Node command and its arguments, pinned to `core` where `canPin` (taskset
 * sets the affinity before Node starts, so every thread of it inherits it).
 */
export function nodeOnCore(core, args) {
  return canPin
    ? { command: 'taskset', args: ['-c', String(core), process.execPath, ...args] }
    : { command: process.execPath, args };
}

/**
 * The reference server in a Node process of its own: `script` in bench/
 * (default server-process.mjs), with `args` (e.g. `['--factor', '1']`). The
 * script prints `{"url": ...}` when it listens, and a final report
 * (`{"stats": ...}` and whatever else it measured) when its stdin ends.
 * Resolves to the URL, the pid, and a stop() that resolves to that report.
 * With `core`, the process is pinned to that core where it can be (`nodeOnCore`).
 */
export function startServerProcess(args = [], script = 'server-process.mjs', { core } = {}) {
  const run =
    core === undefined
      ? { command: process.execPath, args: [join(root, 'bench', script), ...args] }
      : nodeOnCore(core, [join(root, 'bench', script), ...args]);
  const child = spawn(run.command, run.args, {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const next = () =>
    new Promise((resolve, reject) => {
      lines.once('line', (line) => resolve(JSON.parse(line)));
      child.once('exit', (code) => reject(new Error(`the server process exited with ${code}`)));
    });
  return next().then(({ url }) => ({
    url,
    pid: child.pid,
    stop: () => {
      const report = next();
      child.stdin.end();
      return report;
    },
  }));
}

export function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/**
 * Runs one client in its own Node process (bench/slow-consumer-client.mjs,
 * or `clientScript` in bench/) and resolves to the JSON report it prints on
 * stdout. Its stderr is passed through. A client that exits badly or prints
 * no report resolves to `{ ok: false, error }`.
 */
export function runClient(client, url, wavPath, clientScript = 'slow-consumer-client.mjs') {
  const script = join(root, 'bench', clientScript);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, client, url, wavPath], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      out += text;
    });
    child.on('error', (error) => resolve({ client, ok: false, error: `could not start: ${error.message}` }));
    child.on('close', (code, signal) => {
      try {
        resolve(JSON.parse(out));
      } catch {
        resolve({
          client,
          ok: false,
          error: `exited with ${signal ?? `status ${code}`} and no report${out ? `: ${out.slice(0, 200)}` : ''}`,
        });
      }
    });
  });
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const MB = 1024 * 1024;
export const fmtMB = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : (bytes / MB).toFixed(1));

export function ensureOutDir() {
  mkdirSync(outDir, { recursive: true });
}
