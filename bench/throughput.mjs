// Throughput benchmark: how many seconds of audio per second of wall time
// rxjs-transcribe (fromFile -> transcribe) and a plain `ws` loop (every frame
// at once, the EOF, wait for the close) get through a fast reference server
// (synthetic engine, no pacing). Alternates ours, plain, ours, plain, ...:
// cold rounds first, then the measured rounds. Every run is a process of its
// own (bench/throughput-run.mjs), which warms the JIT with --warmup untimed
// runs before its timed one, so that no client pays for the garbage of the
// one before it; the server runs in a process of its own. Writes
// docs/benchmarks/throughput.{json,md} and the index docs/benchmarks/README.md.
//
//   node bench/throughput.mjs [--seconds 1800] [--rounds 5] [--warmup 5] [--window-ms N]
//   (or BENCH_SECONDS / BENCH_ROUNDS / BENCH_WARMUP / BENCH_WINDOW_MS in the
//   environment; --window-ms sets transcribe's windowMs, default the library's)
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  describeRevision,
  ensureOutDir,
  FRAME_BYTES,
  fmtMB,
  machine,
  median,
  option,
  outDir,
  revision,
  root,
  wordsDigest,
  writeIndex,
  writeNoiseWav,
} from './lib.mjs';

const OURS = 'rxjs-transcribe';
const PLAIN = 'plain-ws';
const seconds = option('seconds', 1800);
const rounds = option('rounds', 5);
const warmup = option('warmup', 5, { zero: true });
const windowMs = option('window-ms', undefined);
const transcribeOptions = windowMs !== undefined ? { windowMs } : {};
const log = (message) => process.stderr.write(`throughput: ${message}\n`);
const startRevision = revision();

/** The server in its own process; resolves to its URL and a stop() that resolves to its stats. */
function startServerProcess() {
  const env = { ...process.env };
  delete env.BENCH_FACTOR; // no pacing: as fast as the engine goes
  const child = spawn(process.execPath, [join(root, 'bench', 'server-process.mjs')], {
    cwd: root,
    env,
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
    stop: () => {
      const stats = next().then(({ stats: s }) => s);
      child.stdin.end();
      return stats;
    },
  }));
}

const audio = writeNoiseWav(seconds);
const expectedDigest = wordsDigest(audio.words);
log(`${seconds} s of noise (${fmtMB(audio.pcmBytes)} MB of PCM) in ${audio.path}`);
const server = await startServerProcess();
log(`server ${server.url} (synthetic engine, no pacing, own process)`);

/** One timed run in a fresh process, after `warmupRuns` untimed runs in the same process. */
function inProcess(client, warmupRuns) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(root, 'bench', 'throughput-run.mjs'),
        client,
        server.url,
        audio.path,
        String(warmupRuns),
        JSON.stringify(transcribeOptions),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)));
      } catch {
        reject(new Error(`the run of ${client} printed no result`));
      }
    });
  });
}

async function once(client, round, isWarmup) {
  let result;
  let error;
  let wallMs = 0;
  try {
    const answer = await inProcess(client, isWarmup ? 0 : warmup);
    if (answer.error !== undefined) error = answer.error;
    else {
      result = answer;
      wallMs = answer.wallMs;
    }
  } catch (e) {
    error = String(e?.message ?? e);
  }
  const problems = [];
  if (error !== undefined) problems.push(error);
  else {
    if (result.words.length !== audio.words.length || wordsDigest(result.words) !== expectedDigest) {
      problems.push(`heard ${result.words.length} of ${audio.words.length} words, or not the right ones`);
    }
    if (result.replies !== null && result.replies !== audio.frames + 1) {
      problems.push(`got ${result.replies} of ${audio.frames + 1} replies`);
    }
  }
  const run = {
    client,
    round,
    warmup: isWarmup,
    ok: problems.length === 0,
    ...(problems.length > 0 ? { problems } : {}),
    wallMs: Math.round(wallMs * 10) / 10,
    audioSecondsPerSecond: problems.length === 0 ? seconds / (wallMs / 1000) : null,
  };
  log(
    `${isWarmup ? 'warm-up' : `round ${round}`} ${client}: ${run.ok ? `${wallMs.toFixed(0)} ms, ${run.audioSecondsPerSecond.toFixed(0)} audio s/s` : `FAILED (${problems.join('; ')})`}`,
  );
  return run;
}

const runs = [];
let serverStats;
try {
  for (let round = 1; round <= warmup; round++) {
    for (const client of [OURS, PLAIN]) runs.push(await once(client, round, true));
  }
  for (let round = 1; round <= rounds; round++) {
    for (const client of [OURS, PLAIN]) runs.push(await once(client, round, false));
  }
} finally {
  serverStats = await server.stop();
  rmSync(audio.path, { force: true });
}

function summarize(client) {
  const measured = runs.filter((r) => r.client === client && !r.warmup);
  const good = measured.filter((r) => r.ok);
  const speeds = good.map((r) => r.audioSecondsPerSecond);
  return {
    runs: measured.length,
    failed: measured.length - good.length,
    medianWallMs: good.length > 0 ? median(good.map((r) => r.wallMs)) : null,
    medianAudioSecondsPerSecond: good.length > 0 ? median(speeds) : null,
    minAudioSecondsPerSecond: good.length > 0 ? Math.min(...speeds) : null,
    maxAudioSecondsPerSecond: good.length > 0 ? Math.max(...speeds) : null,
  };
}
const ours = summarize(OURS);
const plain = summarize(PLAIN);
const ratio =
  ours.medianAudioSecondsPerSecond !== null && plain.medianAudioSecondsPerSecond !== null
    ? ours.medianAudioSecondsPerSecond / plain.medianAudioSecondsPerSecond
    : null;

const data = {
  machine: machine(),
  date: new Date().toISOString(),
  revision: startRevision,
  params: {
    audioSeconds: seconds,
    rounds,
    warmup,
    sampleRate: 16000,
    frameBytes: FRAME_BYTES,
    audioBytes: audio.pcmBytes,
    engine: 'synthetic',
    realtime: false,
    transcribeOptions,
    clientsRun:
      'each run in a fresh process after untimed warm-up runs in it, alternating; server in its own process',
  },
  server: {
    peakQueuedBytes: serverStats?.peakQueuedBytes ?? null,
    closeCodes: serverStats?.closeCodes ?? null,
  },
  summary: { ours, plain, ratio },
  runs,
};
ensureOutDir();
writeFileSync(join(outDir, 'throughput.json'), `${JSON.stringify(data, null, 1)}\n`);
writeFileSync(join(outDir, 'throughput.md'), page(data));
writeIndex();
log(
  `median ${ours.medianAudioSecondsPerSecond?.toFixed(0)} audio s/s (ours) vs ${plain.medianAudioSecondsPerSecond?.toFixed(0)} (plain ws): ratio ${ratio?.toFixed(2)}`,
);
log('wrote throughput.json, throughput.md, README.md in docs/benchmarks/');
if (ours.failed > 0 || plain.failed > 0 || runs.some((r) => !r.ok)) process.exitCode = 1;

function page({ machine: m, date, revision: rev, params, summary, runs: all }) {
  const speed = (v) => (v === null ? 'n/a' : v.toFixed(0));
  const row = (name, s) =>
    `| ${name} | ${speed(s.medianAudioSecondsPerSecond)} | ${speed(s.minAudioSecondsPerSecond)}–${speed(s.maxAudioSecondsPerSecond)} | ${s.medianWallMs === null ? 'n/a' : s.medianWallMs.toFixed(0)} | ${s.runs - s.failed} of ${s.runs} |`;
  const perRun = all
    .map(
      (r) =>
        `| ${r.warmup ? `warm-up ${r.round}` : r.round} | ${r.client} | ${r.wallMs.toFixed(0)} | ${r.ok ? speed(r.audioSecondsPerSecond) : `failed: ${(r.problems ?? []).join('; ')}`} |`,
    )
    .join('\n');
  const window = params.transcribeOptions?.windowMs;
  const options =
    window === undefined
      ? 'default options (so a 500 ms window of unanswered audio)'
      : `\`windowMs: ${window}\`, other options the defaults`;
  const r = summary.ratio;
  const verdict =
    r === null
      ? 'No ratio: a client failed every run.'
      : r >= 0.85
        ? `rxjs-transcribe gets through ${(r * 100).toFixed(0)}% of what plain \`ws\` does against a server that is never the bottleneck.`
        : `rxjs-transcribe gets through only ${(r * 100).toFixed(0)}% of what plain \`ws\` does here: **below the 0.85 the project aims for.**`;
  return `# Throughput: audio seconds per second against a fast server

How much audio \`rxjs-transcribe\` gets through a server that is never the bottleneck,
against the simplest possible client: a plain \`ws\` loop that sends everything at once.
It measures the cost of the library's pipeline (WAV parsing, conversion, framing, flow
control, decoding the replies into events) and of its flow-control window.

Latest run: ${date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.platform},
${describeRevision(rev)}.
Raw data: [throughput.json](throughput.json).

## Method

- **Server**: the reference server, synthetic engine, no pacing (\`startServer({ engine:
  'synthetic' })\`: it consumes audio as fast as it can hash it), in a Node process of its
  own, on 127.0.0.1. Its engine answers each frame, one word per second of audio.
- **Audio**: ${params.audioSeconds} s of deterministic noise, 16 kHz mono 16-bit
  (${fmtMB(params.audioBytes)} MB of PCM), a WAV file in the temporary directory.
- **Clients**, both sending the Vosk config, 3200-byte (100 ms) frames and the EOF, and
  done when the server has answered the EOF and closed:
  - \`rxjs-transcribe\`: \`fromFile(wav).pipe(transcribe({ url }))\`, ${options},
    subscribed to completion.
  - \`plain-ws\`: a \`ws\` client that, once open, sends every frame as soon as
    \`fs.createReadStream\` reads it, then the EOF, and waits for the close.
- **Runs**: each in a process of its own, one at a time, alternating (ours, plain, ours,
  plain, ...), so that no client pays for the garbage another left behind (in one shared
  process, the plain client's flood of buffers slowed the run after it). First
  ${params.warmup} cold round${params.warmup === 1 ? '' : 's'} of each (a fresh process, timed at once: not counted), then ${params.rounds} measured
  rounds of each, where the process first makes ${params.warmup} untimed run${params.warmup === 1 ? '' : 's'} to warm the JIT. Wall time is from the start of the
  client (before the socket opens) to its end, and includes reading the file. Every run must
  hear every word, the right ones (and, for plain \`ws\`, get one reply per frame plus one
  for the EOF).
- **Speed** = audio seconds / wall seconds of one run; the table gives medians.

Run it: \`npm run bench:throughput\` (options after \`--\`: \`--seconds N\`, \`--rounds N\`,
\`--warmup N\`, \`--window-ms N\` for rxjs-transcribe's \`windowMs\`, or \`BENCH_SECONDS\` /
\`BENCH_ROUNDS\` / \`BENCH_WARMUP\` / \`BENCH_WINDOW_MS\`).

## Results

| client | median audio s/s | range | median wall (ms) | good runs |
| --- | ---: | ---: | ---: | ---: |
${row('rxjs-transcribe', summary.ours)}
${row('plain-ws', summary.plain)}

**Ratio rxjs-transcribe / plain ws (medians): ${r === null ? 'n/a' : r.toFixed(2)}.** ${verdict}

## What it means

- Plain \`ws\` sends the whole file at once and waits only for the server. rxjs-transcribe
  keeps at most \`windowMs\` of audio sent and unanswered (${window ?? 1000} ms, ${Math.round((window ?? 1000) / 100)} frames, by default) and
  sends more as replies come back, so against a server that answers at once its pace is
  set by round trips to the server, not by the server's speed. That window is what keeps
  its memory bounded when the server is slow ([slow-consumer.md](slow-consumer.md)); run
  with \`--window-ms\` to see what a larger one buys here.
- Frames that become ready together (a file read, a run of replies) leave in one write
  (the socket is corked around each send pass); before that, a system call per frame was
  most of the cost per frame. What remains is mostly the round trips of the window and the
  JavaScript per frame (framing, flow control, the session's bookkeeping).
- The JIT matters more than anything else here. The rows marked warm-up below are the
  first run of a fresh process: there rxjs-transcribe reaches about two thirds of plain
  \`ws\`, since it has more JavaScript to compile. The measured rows come after untimed runs
  in the same process, as in a service that has been up for a while. A short-lived process
  (the command line, one file) sees numbers like the warm-up rows.

Every run:

| round | client | wall (ms) | audio s/s |
| --- | --- | ---: | ---: |
${perRun}
`;
}
