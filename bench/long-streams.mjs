// Long streams: 10 million chunks from a synchronous source, and 24 hours of
// audio, each at full speed through fromAsyncIterable -> transcribe to the
// reference server (synthetic engine, own process). Every word is checked;
// reported: the stack depth where chunks leave the source and where frames
// reach the socket (it must not grow), and the heap after a full collection
// along the stream, with its least-squares slope. Each stream runs in a
// process of its own (bench/long-streams-run.mjs). Writes long-streams.{json,
// md,svg} in docs/benchmarks/ (or --out). Exits 1 when a word is wrong or
// missing, the stack grew, or the heap grew more than --max-growth-mb.
//
//   node bench/long-streams.mjs [--frames 10000000] [--hours 24] [--max-growth-mb 4]
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  describeRevision,
  ensureOutDir,
  MB,
  machine,
  option,
  outDir,
  revision,
  root,
  startServerProcess,
} from './lib.mjs';
import { writeIndex } from './summary.mjs';
import { lineChart } from './svg.mjs';

const frames = option('frames', 10_000_000);
const hours = option('hours', 24);
const maxGrowthMb = option('max-growth-mb', 4);
const log = (message) => process.stderr.write(`long-streams: ${message}\n`);
const startRevision = revision();

// 1 ms chunks (16 samples) for the frame count, rounded up to whole seconds;
// 100 ms chunks for the hours.
const CASES = [
  {
    name: 'frames',
    title: `${frames.toLocaleString('en')} chunks of 1 ms from a synchronous generator`,
    short: `${frames.toLocaleString('en')} chunks of 1 ms`,
    chunks: Math.ceil(frames / 1000) * 1000,
    chunkSamples: 16,
    color: '#d62728',
  },
  {
    name: 'hours',
    title: `${hours} h of audio in 100 ms chunks from a synchronous generator`,
    short: `${hours} h of audio in 100 ms chunks`,
    chunks: Math.round(hours * 36_000),
    chunkSamples: 1600,
    color: '#1f77b4',
  },
];

function runCase(url, c) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        join(root, 'bench', 'long-streams-run.mjs'),
        url,
        String(c.chunks),
        String(c.chunkSamples),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('close', (code, signal) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)));
      } catch {
        resolve({ error: `the run exited with ${signal ?? code} and no result` });
      }
    });
  });
}

/** Least-squares slope of y on x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  return sxx === 0 ? null : sxy / sxx;
}

const server = await startServerProcess();
log(`server ${server.url} (synthetic engine, no pacing, own process)`);
const results = [];
try {
  for (const c of CASES) {
    log(`${c.title} ...`);
    const run = await runCase(server.url, c);
    const problems = [];
    if (run.error) problems.push(run.error);
    let heapSummary;
    if (run.heap) {
      // After the first fifth of the stream: the JIT and the session have settled.
      const settled = run.heap.filter((s) => s.audioSeconds >= run.audioSeconds * 0.2);
      const perAudioHour = slope(settled.map((s) => [s.audioSeconds / 3600, s.heapUsed]));
      const first = settled[0] ?? run.heap[0];
      const last = run.heap.at(-1);
      heapSummary = {
        samples: run.heap.length,
        startBytes: run.heap[0].heapUsed,
        settledBytes: first.heapUsed,
        endBytes: last.heapUsed,
        peakBytes: Math.max(...run.heap.map((s) => s.heapUsed)),
        growthBytes: last.heapUsed - first.heapUsed,
        slopeBytesPerAudioHour: perAudioHour,
      };
      if (heapSummary.growthBytes > maxGrowthMb * MB) {
        problems.push(`the heap grew ${(heapSummary.growthBytes / MB).toFixed(1)} MB after settling`);
      }
    }
    if (!run.error) {
      if (run.words !== run.expectedWords) problems.push(`heard ${run.words} of ${run.expectedWords} words`);
      if (run.firstWrong)
        problems.push(`word ${run.firstWrong.index} is wrong: ${JSON.stringify(run.firstWrong)}`);
      for (const [where, s] of Object.entries(run.stack)) {
        if (s.maxSecondHalf > s.maxFirstHalf) {
          problems.push(`the stack at the ${where} grew from ${s.maxFirstHalf} to ${s.maxSecondHalf} frames`);
        }
      }
    }
    const result = { ...c, ...run, heapSummary, ok: problems.length === 0, problems };
    results.push(result);
    log(
      `${c.name}: ${result.ok ? 'ok' : `FAILED (${problems.join('; ')})`}, ${run.audioSeconds} s of audio in ${(run.wallMs / 1000).toFixed(1)} s, ` +
        `stack ${run.stack?.source.max}/${run.stack?.send.max} frames, heap slope ${((heapSummary?.slopeBytesPerAudioHour ?? 0) / 1024).toFixed(0)} KB per audio hour`,
    );
  }
} finally {
  await server.stop();
}

const data = {
  machine: machine(),
  date: new Date().toISOString(),
  revision: startRevision,
  params: {
    frames,
    hours,
    maxGrowthMb,
    engine: 'synthetic',
    realtime: false,
    transcribe: 'defaults, reconnect off',
  },
  results,
};
ensureOutDir();
writeFileSync(join(outDir, 'long-streams.json'), `${JSON.stringify(data, null, 1)}\n`);
const svg = lineChart({
  title: 'JS heap along long streams (after a full collection)',
  subtitle: `fromAsyncIterable -> transcribe, synthetic engine · ${data.machine.cpu}, ${data.machine.cores} cores · ${data.date.slice(0, 10)}`,
  xLabel: 'share of the stream sent (%)',
  panels: results.map((r) => ({
    title: r.title,
    yLabel: 'heapUsed (MB)',
    series: [
      {
        name: r.name,
        color: r.color,
        points: (r.heap ?? []).map((s) => [(s.audioSeconds / r.audioSeconds) * 100, s.heapUsed / MB]),
      },
    ],
  })),
  legend: results.map((r) => ({ name: r.short, color: r.color })),
});
writeFileSync(join(outDir, 'long-streams.svg'), svg);
writeFileSync(join(outDir, 'long-streams.md'), page(data));
writeIndex();
log(`wrote long-streams.json, long-streams.svg, long-streams.md in ${outDir}`);
if (results.some((r) => !r.ok)) process.exitCode = 1;

function page({ machine: m, date, revision: rev, params, results: all }) {
  const mb = (bytes) => (bytes === undefined || bytes === null ? 'n/a' : (bytes / MB).toFixed(2));
  const rows = all
    .map((r) => {
      const h = r.heapSummary ?? {};
      return `| ${r.title} | ${r.ok ? 'yes' : `**no**: ${r.problems.join('; ')}`} | ${r.audioSeconds?.toLocaleString('en')} | ${r.framesSent?.toLocaleString('en')} | ${((r.wallMs ?? 0) / 1000).toFixed(1)} | ${r.stack?.source.min}–${r.stack?.source.max} | ${r.stack?.send.min}–${r.stack?.send.max} | ${mb(h.settledBytes)} → ${mb(h.endBytes)} | ${h.slopeBytesPerAudioHour === null || h.slopeBytesPerAudioHour === undefined ? 'n/a' : (h.slopeBytesPerAudioHour / 1024).toFixed(1)} |`;
    })
    .join('\n');
  return `# Long streams: no stack growth, a flat heap

A transcription service runs for days; a stream may last hours. Code that recurses per
chunk, or keeps a little per frame (a listener, a timestamp, a closure), fails there and
nowhere else. This benchmark streams ${params.frames.toLocaleString('en')} chunks and ${params.hours} hours of audio
through the library at full speed and watches the stack and the heap.

Latest run: ${date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.platform},
${describeRevision(rev)}.
Raw data: [long-streams.json](long-streams.json).

## Method

- **Server**: the reference server, synthetic engine, no pacing, in a process of its own.
- **Client**: \`fromAsyncIterable(generator(), pcm16kMono).pipe(transcribe({ url, reconnect:
  false }))\`, other options the defaults, in a Node process of its own per stream
  (\`--expose-gc\`). The generator is synchronous: it yields views into a 17 s block of
  deterministic noise, so the source costs nothing and the synthetic engine's word for
  second *i* is known. Every final word is checked on the fly (text and start time, word
  *i* at *i* s) and then dropped, so nothing the benchmark keeps grows.
- **Stack**: the depth of the JavaScript stack (frames of \`new Error().stack\`) where a
  chunk leaves the source (100 times along the stream) and where a frame reaches the
  socket (every 1,024th send). A stream that recursed would get deeper along the stream; the
  check is that the deepest sample of the second half is no deeper than that of the first.
- **Heap**: \`process.memoryUsage().heapUsed\` after \`gc()\`, every 500 ms. The slope is the
  least-squares fit of heap against audio hours, after the first fifth of the stream; the
  check is that the heap after settling grows less than ${params.maxGrowthMb} MB by the end.

Run it: \`npm run bench:long-streams\` (options after \`--\`: \`--frames N\`, \`--hours N\`,
\`--max-growth-mb N\`, \`--out DIR\`).

## Results

| stream | passed | audio s | frames sent | wall s | stack at source | stack at send | heap after settling → end (MB) | slope (KB per audio hour) |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows}

![Heap along the streams](long-streams.svg)

## What it means

- The stack depth is the same at the start and the end of ${params.frames.toLocaleString('en')} chunks: the source
  is pulled in a loop of awaits and frames are sent from a scheduler pass, never by a call
  that returns only when the next chunk has gone.
- The heap after a collection holds what a session needs (the window, the read-ahead, the
  unfinalised audio kept for replay) and not what it has done: its size depends on the
  options, not on how long the stream has run. A slope of a few KB per audio hour is the
  noise of sampling a heap of a few MB.
`;
}
