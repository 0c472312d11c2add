// One client of the doors benchmark, in its own process so that its heap and
// RSS are its own:
//
//   node bench/doors-client.mjs CLIENT URL WAV
//
// CLIENT is one of bench/doors-clients.mjs. It samples its memory every
// 100 ms (and the peer's socket bufferedAmount, or a door's flow buffer) and
// prints one JSON report on stdout at the end (`ok: false` and the error if
// the client failed).
import { performance } from 'node:perf_hooks';
import { CLIENTS } from './doors-clients.mjs';
import { wordsDigest } from './lib.mjs';

const SAMPLE_MS = 100;
const [client, url, wavPath] = process.argv.slice(2);
const run = CLIENTS[client];
if (run === undefined || url === undefined || wavPath === undefined) {
  process.stderr.write(`usage: node bench/doors-client.mjs (${Object.keys(CLIENTS).join('|')}) URL WAV\n`);
  process.exit(2);
}

let socket;
let stats;
const samples = [];
const t0 = performance.now();
function sample() {
  const memory = process.memoryUsage();
  samples.push({
    tMs: Math.round(performance.now() - t0),
    heapUsed: memory.heapUsed,
    rss: memory.rss,
    arrayBuffers: memory.arrayBuffers,
    bufferedAmount: socket?.bufferedAmount ?? null,
    bufferedMs: stats?.()?.bufferedMs ?? null,
  });
}
sample();
const timer = setInterval(sample, SAMPLE_MS);

function report(result) {
  const wallMs = performance.now() - t0;
  clearInterval(timer);
  sample();
  const peak = (key) => {
    const values = samples.map((s) => s[key]).filter((v) => typeof v === 'number');
    return values.length === 0 ? null : Math.max(...values);
  };
  const { words = [], ...rest } = result;
  const out = {
    client,
    ...rest,
    wallMs,
    wordCount: words.length,
    wordsDigest: wordsDigest(words),
    peakHeapBytes: peak('heapUsed'),
    peakRssBytes: peak('rss'),
    peakArrayBuffersBytes: peak('arrayBuffers'),
    peakBufferedBytes: peak('bufferedAmount'),
    peakBufferedMs: peak('bufferedMs'),
    samples,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
}

run(url, wavPath, {
  onSocket: (s) => {
    socket = s;
  },
  onStats: (read) => {
    stats = read;
  },
}).then(
  (result) => report({ ok: true, ...result }),
  (error) => report({ ok: false, error: String(error?.message ?? error) }),
);
