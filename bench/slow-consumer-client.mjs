// One client of the slow-consumer benchmark, in its own process so that its
// heap and RSS are its own:
//
//   node bench/slow-consumer-client.mjs CLIENT URL WAV
//
// CLIENT is one of bench/clients.mjs (rxjs-transcribe, rxjs-webSocket,
// rxjs-websockets, plain-ws). It samples its memory and its socket's
// bufferedAmount every 100 ms while the client runs, and prints one JSON
// report on stdout when the server has answered and closed (or the client
// failed: `ok: false` and the error).
import { performance } from 'node:perf_hooks';
import { CLIENTS } from './clients.mjs';
import { wordsDigest } from './lib.mjs';

const SAMPLE_MS = 100;
const [client, url, wavPath] = process.argv.slice(2);
const run = CLIENTS[client];
if (run === undefined || url === undefined || wavPath === undefined) {
  process.stderr.write(
    `usage: node bench/slow-consumer-client.mjs (${Object.keys(CLIENTS).join('|')}) URL WAV\n`,
  );
  process.exit(2);
}

let socket;
let operator;
const samples = [];
const t0 = performance.now();
function sample() {
  const memory = process.memoryUsage();
  const entry = {
    tMs: Math.round(performance.now() - t0),
    heapUsed: memory.heapUsed,
    rss: memory.rss,
    arrayBuffers: memory.arrayBuffers,
    // rxjs-transcribe has no public socket handle: its flow stats instead.
    bufferedAmount: client === 'rxjs-transcribe' ? null : (socket?.bufferedAmount ?? 0),
  };
  if (client === 'rxjs-transcribe') entry.bufferedMs = operator?.stats()?.bufferedMs ?? 0;
  samples.push(entry);
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
    ...(client === 'rxjs-transcribe' ? { peakBufferedMs: peak('bufferedMs') } : {}),
    samples,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
}

run(url, wavPath, {
  onSocket: (s) => {
    socket = s;
  },
  onOperator: (op) => {
    operator = op;
  },
}).then(
  (result) => report({ ok: true, ...result }),
  (error) => report({ ok: false, error: String(error?.message ?? error) }),
);
