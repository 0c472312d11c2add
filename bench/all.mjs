// `npm run bench`: every benchmark, one after the other, each in processes of
// its own, then the table of their headline figures. Each writes its JSON,
// page and plot in docs/benchmarks/ (or --out DIR); this writes the index.
// Options after `--` go to every benchmark (--out DIR); `--only a,b` runs
// some of them; `--soak-minutes N` sets the soak's length (default 2).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { machine, option, outDir, root, textOption } from './lib.mjs';
import { BENCHMARKS, markdownTable, writeIndex } from './summary.mjs';

/** Each benchmark's script and the arguments of its run here. */
const RUNS = {
  cost: [],
  'long-streams': [],
  'slow-consumer': [],
  doors: [],
  concurrency: [],
  soak: ['--minutes', String(option('soak-minutes', 2))],
  'deepgram-reconnect': [],
  'assemblyai-reconnect': [],
  'openai-reconnect': [],
};
const only = textOption('only')?.split(',');
for (const name of only ?? []) {
  if (!(name in RUNS))
    throw new RangeError(`--only: no benchmark ${name}; there are ${Object.keys(RUNS).join(', ')}`);
}
const log = (message) => process.stderr.write(`bench: ${message}\n`);

function run(name, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'bench', `${name}.mjs`), ...args, '--out', outDir], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('close', (code, signal) => resolve(signal ?? code));
  });
}

const started = performance.now();
const outcomes = [];
for (const [name, args] of Object.entries(RUNS)) {
  if (only !== undefined && !only.includes(name)) continue;
  const t = performance.now();
  log(`${name} ...`);
  const status = await run(name, args);
  const seconds = (performance.now() - t) / 1000;
  outcomes.push({ name, status, seconds });
  log(`${name}: ${status === 0 ? 'done' : `FAILED (${status})`} in ${seconds.toFixed(0)} s`);
}
writeIndex();
const total = (performance.now() - started) / 1000;
updatePerformancePage();
process.stdout.write(`\n${markdownTable(outDir)}\n\n`);
for (const o of outcomes)
  process.stdout.write(
    `${o.name}: ${o.status === 0 ? 'ok' : `failed (${o.status})`}, ${o.seconds.toFixed(0)} s\n`,
  );
process.stdout.write(`all: ${total.toFixed(0)} s; results in ${outDir}\n`);
if (BENCHMARKS.length === 0 || outcomes.some((o) => o.status !== 0)) process.exitCode = 1;

/**
 * docs/performance.md quotes the table of the latest full run between two
 * markers; a run into docs/benchmarks/ of every benchmark rewrites it, so the
 * page's numbers are always those of one run.
 */
function updatePerformancePage() {
  const page = join(root, 'docs', 'performance.md');
  if (outDir !== join(root, 'docs', 'benchmarks') || only !== undefined || !existsSync(page)) return;
  const text = readFileSync(page, 'utf8');
  const begin = '<!-- bench:table -->';
  const end = '<!-- /bench:table -->';
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return;
  const m = machine();
  const block = [
    begin,
    '',
    `From \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${m.cpu}, ${m.cores} cores, Node ${m.node}; ${Math.round(total / 60)} minutes in all${
      outcomes.every((o) => o.status === 0)
        ? ''
        : ` (failed: ${outcomes
            .filter((o) => o.status !== 0)
            .map((o) => o.name)
            .join(', ')})`
    }.`,
    '',
    markdownTable(outDir, 'benchmarks/'),
    '',
  ].join('\n');
  writeFileSync(page, text.slice(0, from) + block + text.slice(to));
}
