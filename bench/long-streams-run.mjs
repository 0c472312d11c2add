// One long stream in a process of its own (run with --expose-gc): `chunks`
// chunks of `chunkSamples` 16 kHz samples each, yielded by a synchronous
// generator through fromAsyncIterable -> transcribe to the reference server,
// as fast as the server takes them. Checks every word on the fly (nothing is
// kept, so the heap measures the library), samples the heap after a full
// collection every 500 ms, and the stack depth where chunks leave the source
// and where frames reach the socket. Prints one JSON line.
//
//   node --expose-gc bench/long-streams-run.mjs URL CHUNKS CHUNK_SAMPLES
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { tap } from 'rxjs';
import { defaultSocketFactory, fromAsyncIterable, transcribe } from '../dist/esm/index.js';

const [url, chunksText, chunkSamplesText] = process.argv.slice(2);
const chunks = Number(chunksText);
const chunkSamples = Number(chunkSamplesText);
const RATE = 16_000;
const SECOND_BYTES = RATE * 2;
// The audio cycles through a block of noise 17 s long (a prime, so that no
// frame size lines up with it): the source costs nothing but a view, and the
// word the synthetic engine gives second i is the block's word for i mod 17.
const BLOCK_SECONDS = 17;
const chunkBytes = chunkSamples * 2;
const block = new Uint8Array(BLOCK_SECONDS * SECOND_BYTES);
if (block.length % chunkBytes !== 0)
  throw new RangeError(`chunks of ${chunkSamples} samples do not divide the block`);
if ((chunks * chunkBytes) % SECOND_BYTES !== 0) throw new RangeError('the stream must be whole seconds long');
let state = 0x9e3779b9;
const view = new DataView(block.buffer);
for (let i = 0; i < block.length; i += 2) {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  view.setInt16(i, (state & 0x3fff) - 0x2000, true);
}
const blockWords = [];
for (let s = 0; s < BLOCK_SECONDS; s++) {
  const digest = createHash('sha256')
    .update(block.subarray(s * SECOND_BYTES, (s + 1) * SECOND_BYTES))
    .digest('hex');
  blockWords.push(`w${digest.slice(0, 8)}`);
}
const audioSeconds = (chunks * chunkBytes) / SECOND_BYTES;

function* source() {
  let at = 0;
  for (let i = 0; i < chunks; i++) {
    yield block.subarray(at, at + chunkBytes);
    at = (at + chunkBytes) % block.length;
  }
}

/** Frames on the stack here. */
function stackDepth() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 10_000;
  const depth = new Error().stack.split('\n').length - 1;
  Error.stackTraceLimit = limit;
  return depth;
}

/** Depths sampled along the stream (100 at the source): [progress 0..1, depth]. */
const sourceEvery = Math.max(1, Math.floor(chunks / 100));
const sourceDepths = [];
const sendDepths = [];
let chunksOut = 0;
let sends = 0;
const socketFactory = (address, options, handlers) => {
  const socket = defaultSocketFactory(address, options, handlers);
  const send = socket.send.bind(socket);
  socket.send = (data, onSent) => {
    if (sends++ % 1024 === 0) sendDepths.push([chunksOut / chunks, stackDepth()]);
    send(data, onSent);
  };
  return socket;
};

let words = 0;
let firstWrong;
const heap = [];
const operator = transcribe({ url, socketFactory, reconnect: false });
const start = performance.now();
const cpuStart = process.cpuUsage();
globalThis.gc();
heap.push({ tMs: 0, audioSeconds: 0, heapUsed: process.memoryUsage().heapUsed });
const sampler = setInterval(() => {
  globalThis.gc();
  heap.push({
    tMs: Math.round(performance.now() - start),
    audioSeconds: (operator.stats()?.emittedSamples ?? 0) / RATE,
    heapUsed: process.memoryUsage().heapUsed,
  });
}, 500);

const error = await new Promise((resolve) => {
  fromAsyncIterable(source(), { sampleRate: RATE, channels: 1, encoding: 'pcm_s16le' })
    .pipe(
      tap(() => {
        if (chunksOut++ % sourceEvery === 0) sourceDepths.push([chunksOut / chunks, stackDepth()]);
      }),
      operator,
    )
    .subscribe({
      next(event) {
        if (event.type !== 'final') return;
        for (const word of event.words) {
          const expected = blockWords[words % BLOCK_SECONDS];
          if (firstWrong === undefined && (word.text !== expected || word.startMs !== words * 1000)) {
            firstWrong = { index: words, text: word.text, startMs: word.startMs, expected };
          }
          words += 1;
        }
      },
      error: (e) => resolve(String(e?.message ?? e)),
      complete: () => resolve(undefined),
    });
});
clearInterval(sampler);
const wallMs = performance.now() - start;
const cpu = process.cpuUsage(cpuStart);
globalThis.gc();
heap.push({ tMs: Math.round(wallMs), audioSeconds, heapUsed: process.memoryUsage().heapUsed });

const depths = (samples) => {
  const values = samples.map(([, d]) => d);
  const half = (first) => samples.filter(([p]) => (first ? p < 0.5 : p >= 0.5)).map(([, d]) => d);
  return {
    samples: values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    maxFirstHalf: Math.max(...half(true)),
    maxSecondHalf: Math.max(...half(false)),
  };
};

process.stdout.write(
  `${JSON.stringify({
    chunks,
    chunkSamples,
    audioSeconds,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    error: error ?? null,
    words,
    expectedWords: audioSeconds,
    firstWrong: firstWrong ?? null,
    framesSent: sends,
    flow: operator.stats(),
    stack: { source: depths(sourceDepths), send: depths(sendDepths) },
    heap,
  })}\n`,
);
