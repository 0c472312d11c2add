// Soak: streams continuously through faults injected on a schedule, and
// reports memory trends, reconnects, words lost or doubled (against the
// fault-free transcript) and errors.
//
//   npm run soak -- --minutes 3       (short in CI: spec/bench/soak.spec.ts)
//
// Options (each also as BENCH_NAME in the environment):
//   --minutes N            how long to stream, fractions allowed (default 3)
//   --sessions N           concurrent sessions (default 4)
//   --speed N              audio pushed at N x real time (default 10)
//   --fault-every S        seconds between faults (default 5)
//   --faults LIST          the cycle of faults (default reset,stall,server-kill,server-restart), or none
//   --end-fault 0          no extra fault 20 ms before the sources end (default: one, the next kind)
//   --dead-after-ms MS     transcribe's deadAfterMs (default 1000; the library's is 10,000)
//   --buffer-ms MS         transcribe's maxBufferMs (default 15 s of wall time at --speed)
//   --max-replay-ms MS     transcribe's maxReplayMs (default the library's; a tiny one shows the
//                          checker catching lost words)
//   --sample-every S       memory sample interval (default 2, shorter for short runs)
//   --warmup S             samples left out of the trend (default a quarter of the run, at most 60)
//   --max-heap-slope KB    heap slope bound, KB/min (default 1024) ...
//   --max-buffer-slope KB  arrayBuffers slope bound, KB/min (default 1024) ...
//   --slope-min-minutes M  ... checked when the window after warm-up is this long (default 2)
//   --max-heap-growth MB   heap growth bound over the window (default 8)
//   --max-buffer-growth MB arrayBuffers (audio) growth bound over the window (default 8)
//   --out DIR              where soak.json, soak.md and soak.svg go (default docs/benchmarks)
//   --render               only write soak.md and soak.svg again from soak.json
//
// Exits with 1 when a word was lost, doubled or wrong, a session errored or
// did not complete, audio was dropped, or a memory bound was exceeded.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MB, machine, option, outDir, revision, root, textOption } from './lib.mjs';
import { FAULT_KINDS, faultRig } from './soak-faults.mjs';
import { trend, writeResults } from './soak-report.mjs';

// --render: the page and chart again from soak.json (after a change to their format).
if (process.argv.includes('--render')) {
  writeResults(JSON.parse(readFileSync(join(outDir, 'soak.json'), 'utf8')));
  process.exit(0);
}

const minutes = option('minutes', 3);
const seconds = minutes * 60;
const sessions = option('sessions', 4);
const speed = option('speed', 10);
const faultEvery = option('fault-every', 5);
const deadAfterMs = option('dead-after-ms', 1000);
// A live source keeps pushing during an outage; the buffer must hold what arrives meanwhile.
const bufferMs = option('buffer-ms', Math.max(30_000, speed * 15_000));
const maxReplayMs = option('max-replay-ms', undefined);
const endFault = option('end-fault', 1, { zero: true }) !== 0;
const sampleEveryS = option('sample-every', Math.min(2, Math.max(0.5, seconds / 60)));
const warmupS = option('warmup', Math.min(60, seconds / 4), { zero: true });
const bounds = {
  bufferMs,
  maxHeapSlopeKBPerMin: option('max-heap-slope', 1024),
  maxBufferSlopeKBPerMin: option('max-buffer-slope', 1024),
  slopeMinMinutes: option('slope-min-minutes', 2),
  maxHeapGrowthMB: option('max-heap-growth', 8),
  maxBufferGrowthMB: option('max-buffer-growth', 8),
};
// `--faults none`: the same run with no faults, a baseline.
const faultList = textOption('faults') ?? FAULT_KINDS.join(',');
const faults = faultList === 'none' ? [] : faultList.split(',').filter(Boolean);
if (faults.length === 0 && faultList !== 'none') throw new RangeError('--faults: give kinds, or none');
for (const kind of faults) {
  if (!FAULT_KINDS.includes(kind)) throw new RangeError(`--faults: unknown ${kind}; use ${FAULT_KINDS}`);
}
if (!Number.isInteger(sessions)) throw new RangeError(`--sessions must be whole, got ${sessions}`);

const rev = revision();
const log = (message) => process.stderr.write(`soak: ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const rig = await faultRig();
log(
  `${sessions} sessions at ${speed}x for ${minutes} min through ${rig.url}, ${
    faults.length > 0 ? `a fault every ${faultEvery} s (${faults.join(', ')})` : 'no faults'
  }`,
);

const client = spawn(
  process.execPath,
  [
    '--expose-gc',
    join(root, 'bench', 'soak-client.mjs'),
    JSON.stringify({
      url: rig.url,
      sessions,
      speed,
      seconds,
      deadAfterMs,
      bufferMs,
      maxReplayMs,
      sampleEveryMs: sampleEveryS * 1000,
      drainTimeoutMs: 120_000,
    }),
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
const samples = [];
let report;
let endedAtS;
let origin; // this process's clock at the client's t = 0
let markStarted;
let markEnded;
const started = new Promise((resolve) => {
  markStarted = resolve;
});
const ended = new Promise((resolve) => {
  markEnded = resolve;
});
const clientExit = new Promise((resolve) => client.once('exit', (code, signal) => resolve(signal ?? code)));
// The client gone before its report ends the run too (and is an error below).
clientExit.then(markEnded);
createInterface({ input: client.stdout }).on('line', (line) => {
  const message = JSON.parse(line);
  if (message.type === 'sample') {
    origin ??= performance.now() - message.t * 1000;
    samples.push(message);
    markStarted();
  } else if (message.type === 'ended') {
    endedAtS = message.t;
    markEnded();
  } else if (message.type === 'report') report = message;
});

// Faults on a fixed schedule from the client's start, until its sources end.
const injected = [];
await Promise.race([started, clientExit]);
// One more just before the sources end (unless --end-fault 0), so that the end of the
// stream (end-of-stream sent, the final awaited) is hit too, not only the middle.
const endFaultAt = endFault ? origin + seconds * 1000 - 20 : Number.POSITIVE_INFINITY;
const schedule = (async () => {
  if (faults.length === 0) return;
  let endFaultDone = false;
  for (let i = 0; ; i++) {
    let due = origin + (i + 1) * faultEvery * 1000;
    const atEnd = !endFaultDone && due >= endFaultAt;
    if (atEnd) {
      due = endFaultAt;
      endFaultDone = true;
    }
    const next = await Promise.race([sleep(Math.max(0, due - performance.now())).then(() => 'due'), ended]);
    if (next !== 'due') return;
    const atS = (performance.now() - origin) / 1000;
    const hit = await rig.inject(faults[i % faults.length]);
    injected.push({ atS: Number(atS.toFixed(3)), ...hit, ...(atEnd ? { atEnd } : {}) });
    log(
      `${atS.toFixed(1)} s: ${hit.kind}${atEnd ? ' (at the end)' : ''} (${hit.connections} connections${
        hit.downMs !== undefined ? `, down ${hit.downMs} ms` : ''
      })`,
    );
  }
})();
const exitStatus = await clientExit;
await schedule;
const proxyConnections = rig.connections;
await rig.close();
if (report === undefined) {
  log(`the client process exited with ${exitStatus} and no report`);
  process.exit(1);
}

// --- numbers ---------------------------------------------------------------

const sum = (key) => report.sessions.reduce((total, s) => total + s[key], 0);
const byKind = Object.fromEntries(
  faults.map((kind) => [kind, injected.filter((f) => f.kind === kind).length]),
);
const connectionFailures = {};
for (const s of report.sessions) {
  for (const [key, n] of Object.entries(s.failures))
    connectionFailures[key] = (connectionFailures[key] ?? 0) + n;
}
const fromS = Math.min(warmupS, endedAtS);
const memoryTrend = (key) => trend(samples, key, fromS, endedAtS);
const argv = process.argv.slice(2);
const outAt = argv.findIndex((a) => a === '--out' || a.startsWith('--out='));
if (outAt >= 0) argv.splice(outAt, argv[outAt] === '--out' ? 2 : 1);

const data = {
  date: new Date().toISOString(),
  machine: machine(),
  revision: rev,
  command: argv.join(' ') || '(defaults)',
  params: {
    minutes,
    sessions,
    speed,
    faultEvery,
    faults,
    endFault,
    deadAfterMs,
    bufferMs,
    maxReplayMs: maxReplayMs ?? 'default',
    reconnect: 'defaults',
    sampleEveryS,
    warmupS: fromS,
  },
  bounds,
  durationS: endedAtS,
  drainS: report.drainS,
  audioSeconds: sum('audioSeconds'),
  // What the pacing asked for: less was streamed when the client could not keep up (a busy machine).
  scheduledAudioSeconds: Math.floor(seconds * speed) * sessions,
  faults: {
    injected: injected.length,
    byKind,
    connectionsHit: injected.reduce((total, f) => total + f.connections, 0),
    downMs: injected.filter((f) => f.downMs !== undefined).map((f) => f.downMs),
    list: injected,
  },
  reconnects: sum('reconnects'),
  connectionFailures,
  proxyConnections,
  words: {
    expected: sum('audioSeconds'),
    ok: sum('ok'),
    lost: sum('lost'),
    doubled: sum('doubled'),
    wrong: sum('wrong'),
  },
  errors: report.sessions.filter((s) => s.error !== null).map((s) => ({ session: s.session, ...s.error })),
  hungSessions: report.sessions.filter((s) => !s.completed && s.error === null).length,
  audio: {
    droppedMs: sum('droppedMs'),
    replayedMs: sum('replayedMs'),
    replayDroppedMs: sum('replayDroppedMs'),
    peakBufferedMs: Math.max(...report.sessions.map((s) => s.peakBufferedMs)),
  },
  memory: {
    heapUsed: memoryTrend('heapUsed'),
    rss: memoryTrend('rss'),
    arrayBuffers: memoryTrend('arrayBuffers'),
    baseline: report.baseline,
    afterEnd: report.after,
    // The samples as the client sent them, without their message type.
    samples: samples.map(({ type, ...sample }) => sample),
  },
  sessions: report.sessions,
};
writeResults(data);

const heap = data.memory.heapUsed;
log(
  `${(endedAtS / 60).toFixed(2)} min, ${data.audioSeconds} s of audio, ${injected.length} faults (${Object.entries(
    byKind,
  )
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')}), ${data.reconnects} reconnects; words ${data.words.ok} right, ${data.words.lost} lost, ${
    data.words.doubled
  } doubled, ${data.words.wrong} wrong; ${data.errors.length} errors; heap slope ${heap.slopeKBPerMin.toFixed(
    1,
  )} KB/min, growth ${heap.growthBytes === null ? 'n/a' : `${(heap.growthBytes / MB).toFixed(2)} MB`}`,
);
for (const c of data.checks) log(`${c.ok ? 'pass' : 'FAIL'}: ${c.name}: ${c.detail}`);
log(`wrote ${join(outDir, 'soak.md')}`);
process.exit(data.ok ? 0 : 1);
