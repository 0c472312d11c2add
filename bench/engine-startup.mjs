// Engine start-up benchmark: how soon a PocketSphinx session answers, and
// what each concurrent session costs in memory. One reference server (the
// pocketsphinx engine) in this process; for the first reply, `--runs`
// connections one after another, each timed from `new WebSocket` to the reply
// to its first 100 ms of audio; for memory, 1, 10 and 50 sessions held open
// mid-speech, and the PSS and USS (from /proc/PID/smaps_rollup: pages shared
// between the engine processes count once, split between them) of every
// engine process the server started. Merges its result under `--label` into
// docs/benchmarks/engine-startup.json and rewrites engine-startup.md.
//
//   node bench/engine-startup.mjs [--label after] [--dist DIR --source TEXT] [--runs 30] [--sessions 1,10,50]
//
// `--dist` is the build to load (default ./dist): for the numbers before the
// warm pool, a copy of the earlier commit (`git archive`), built there, with
// `--source` saying what it is.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import {
  CONFIG_MESSAGE,
  describeRevision,
  ensureOutDir,
  FRAME_BYTES,
  MB,
  machine,
  median,
  option,
  outDir,
  revision,
  root,
  textOption,
  WAV_HEADER_BYTES,
} from './lib.mjs';

const label = textOption('label') ?? 'after';
const dist = resolve(textOption('dist') ?? join(root, 'dist'));
/** Whether the build is this tree's (its revision is then known); `--source` describes another. */
const ownBuild = dist === resolve(root, 'dist');
const source = textOption('source') ?? (ownBuild ? undefined : `the build in ${dist}`);
const runs = option('runs', 30);
const counts = (textOption('sessions') ?? '1,10,50').split(',').map(Number);
const log = (message) => process.stderr.write(`engine-startup [${label}]: ${message}\n`);
const startRevision = revision();

const SPEECH = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';
const pcm = readFileSync(SPEECH).subarray(WAV_HEADER_BYTES);
/** Engine processes: a session's (the binary's name, cut to 15 characters) and the warm pool. */
const ENGINE_NAMES = ['pocketsphinx-en', 'ps-engine-pool'];

const { startServer } = await import(pathToFileURL(join(dist, 'esm', 'server', 'index.js')).href);

/** Descendants of this process whose name is an engine's, with their names. */
function engineProcesses() {
  const parents = new Map();
  const names = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (state === 'Z') continue;
    parents.set(Number(entry), Number(ppid));
    names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
  }
  const descends = (pid) => {
    for (let up = parents.get(pid); up !== undefined && up > 1; up = parents.get(up))
      if (up === process.pid) return true;
    return false;
  };
  return [...names]
    .filter(([pid, name]) => ENGINE_NAMES.includes(name) && descends(pid))
    .map(([pid, name]) => ({ pid, name }));
}

/** PSS, USS (private clean + dirty) and RSS of a process, in bytes. */
function memoryOf(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return {
    pss: field('Pss'),
    uss: field('Private_Clean') + field('Private_Dirty'),
    rss: field('Rss'),
  };
}

/** Opens a session, sends the config and `frames` of speech, resolves once each has its reply. */
function openSession(url, frames) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = new WebSocket(url);
    let replies = 0;
    let firstReplyMs;
    socket.on('open', () => {
      socket.send(CONFIG_MESSAGE);
      for (let i = 0; i < frames; i++) socket.send(pcm.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES));
    });
    socket.on('message', () => {
      replies += 1;
      firstReplyMs ??= performance.now() - started;
      if (replies === frames) resolve({ socket, firstReplyMs });
    });
    socket.on('error', reject);
    socket.on('close', (code, reason) => {
      if (replies < frames) reject(new Error(`closed ${code} ${reason} after ${replies} replies`));
    });
  });
}

function closeSession(socket) {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) return resolve();
    socket.once('close', () => resolve());
    socket.close(1000);
  });
}

async function settle(predicate, timeoutMs = 30_000) {
  const until = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > until) throw new Error('engine processes did not settle');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const round = (value, digits = 1) => Number(value.toFixed(digits));

const server = await startServer({ port: 0, engine: 'pocketsphinx' });
log(`server ${server.url}, build ${dist}`);
let result;
try {
  // The very first session: the binary may be built and the model loaded by it (or by the pool).
  const cold = await openSession(server.url, 1);
  await closeSession(cold.socket);
  log(`first session after start: first reply in ${cold.firstReplyMs.toFixed(0)} ms`);
  await settle(() => engineProcesses().filter((p) => p.name === 'pocketsphinx-en').length === 0);

  const firstReply = [];
  for (let i = 0; i < runs; i++) {
    const { socket, firstReplyMs } = await openSession(server.url, 1);
    firstReply.push(firstReplyMs);
    await closeSession(socket);
  }
  log(
    `first reply: median ${median(firstReply).toFixed(1)} ms, p90 ${percentile(firstReply, 90).toFixed(1)} ms`,
  );

  const memory = [];
  for (const count of counts) {
    await settle(() => engineProcesses().filter((p) => p.name === 'pocketsphinx-en').length === 0);
    // Ten frames (1 s of speech) each: every decoder is mid-utterance, its search state allocated.
    const sessions = [];
    for (let i = 0; i < count; i += 10) {
      sessions.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(10, count - i) }, () => openSession(server.url, 10)),
        )),
      );
    }
    const processes = engineProcesses().map((p) => ({ ...p, ...memoryOf(p.pid) }));
    const sum = (key, name) =>
      processes.filter((p) => name === undefined || p.name === name).reduce((t, p) => t + p[key], 0);
    const entry = {
      sessions: count,
      processes: processes.length,
      totalPssBytes: sum('pss'),
      totalUssBytes: sum('uss'),
      totalRssBytes: sum('rss'),
      poolPssBytes: sum('pss', 'ps-engine-pool'),
      pssPerSessionBytes: Math.round(sum('pss') / count),
    };
    memory.push(entry);
    log(
      `${count} sessions: ${processes.length} processes, PSS ${(entry.totalPssBytes / MB).toFixed(1)} MB (${(entry.pssPerSessionBytes / MB).toFixed(1)} MB a session), USS ${(entry.totalUssBytes / MB).toFixed(1)} MB, RSS ${(entry.totalRssBytes / MB).toFixed(1)} MB`,
    );
    await Promise.all(sessions.map((s) => closeSession(s.socket)));
  }
  const one = memory.find((m) => m.sessions === Math.min(...counts));
  const many = memory.find((m) => m.sessions === Math.max(...counts));
  const beyondFirst =
    many.sessions > one.sessions
      ? (many.totalPssBytes - one.totalPssBytes) / (many.sessions - one.sessions)
      : null;
  result = {
    revision: ownBuild ? startRevision : null,
    ...(source !== undefined ? { source } : {}),
    dist,
    coldFirstReplyMs: round(cold.firstReplyMs),
    firstReplyMs: {
      runs,
      median: round(median(firstReply)),
      p90: round(percentile(firstReply, 90)),
      max: round(Math.max(...firstReply)),
    },
    memory,
    pssPerSessionBeyondFirstBytes: beyondFirst === null ? null : Math.round(beyondFirst),
  };
  log(`PSS per session beyond the first: ${beyondFirst === null ? 'n/a' : (beyondFirst / MB).toFixed(1)} MB`);
} finally {
  await server.close();
}

ensureOutDir();
const jsonPath = join(outDir, 'engine-startup.json');
const previous = existsSync(jsonPath) ? JSON.parse(readFileSync(jsonPath, 'utf8')) : { results: {} };
const report = {
  benchmark: 'engine-startup',
  date: new Date().toISOString(),
  machine: machine(),
  speech: SPEECH,
  aim: { firstReplyMedianMs: 150, pssPerSessionBeyondFirstMB: 25 },
  results: { ...previous.results, [label]: result },
};
writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);

const mb = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : (bytes / MB).toFixed(1));
const labels = Object.keys(report.results);
const row = (name, pick) => `| ${name} | ${labels.map((l) => pick(report.results[l])).join(' | ')} |`;
const memoryAt = (count, key) => (r) => mb(r.memory.find((m) => m.sessions === count)?.[key]);
const lines = [
  '# Engine start-up and memory per session',
  '',
  `PocketSphinx sessions on ${report.machine.cpu} (${report.machine.cores} cores), ${report.machine.node}; written by \`node bench/engine-startup.mjs\` (${report.date.slice(0, 10)}).`,
  '',
  'First reply: from `new WebSocket` to the reply to the first 100 ms of audio, one connection after another.',
  'Memory: sessions held open mid-speech (1 s of audio each); PSS and USS of every engine process (the pool',
  'included), from /proc/PID/smaps_rollup, so pages shared between processes count once.',
  '',
  `| | ${labels.join(' | ')} |`,
  `|---|${labels.map(() => '---').join('|')}|`,
  row('first session after start (ms)', (r) => r.coldFirstReplyMs),
  row('first reply, median (ms)', (r) => r.firstReplyMs.median),
  row('first reply, p90 (ms)', (r) => r.firstReplyMs.p90),
  ...counts.flatMap((count) => [
    row(`PSS, ${count} session${count > 1 ? 's' : ''} (MB)`, memoryAt(count, 'totalPssBytes')),
    row(`USS, ${count} session${count > 1 ? 's' : ''} (MB)`, memoryAt(count, 'totalUssBytes')),
  ]),
  row('PSS per session beyond the first (MB)', (r) => mb(r.pssPerSessionBeyondFirstBytes)),
  '',
  `Aim: first reply within ${report.aim.firstReplyMedianMs} ms (median), at most ${report.aim.pssPerSessionBeyondFirstMB} MB per session beyond the first.`,
  '',
  ...labels.map((l) => {
    const r = report.results[l];
    return `- ${l}: ${r.revision !== null ? describeRevision(r.revision) : r.source}`;
  }),
  '',
];
writeFileSync(join(outDir, 'engine-startup.md'), lines.join('\n'));
log(`wrote ${jsonPath}`);
process.exit(0);
