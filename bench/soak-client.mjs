// The soak's client, in a process of its own (run with --expose-gc) so that
// its memory is the library's and the checker's alone, not the proxy's or the
// server's:
//
//   node --expose-gc bench/soak-client.mjs '<config JSON>'
//
// Runs `sessions` transcriptions of live noise through `transcribe()` until
// `seconds` of wall time have passed, then ends each source at a whole second
// and waits for the sessions to complete. Prints JSON lines on stdout:
// `{"type":"sample",...}` (memory after a full gc, every `sampleEveryMs`),
// `{"type":"ended"}` when the sources have ended, and a last
// `{"type":"report",...}`.
import { transcribe } from '../dist/esm/index.js';
import { liveNoise, transcriptCheck } from './soak-audio.mjs';

const config = JSON.parse(process.argv[2]);
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run the soak client with node --expose-gc');

const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const startedAt = performance.now();
const elapsedS = () => (performance.now() - startedAt) / 1000;

function memory() {
  // Twice: V8 frees dead ArrayBuffers' memory on a background sweeper, which the next full gc
  // finishes; after one gc(), arrayBuffers can still count megabytes of garbage audio.
  gc();
  gc();
  const { heapUsed, rss, arrayBuffers, external } = process.memoryUsage();
  // Sockets and timers alive: a connection or timer left behind by a reconnect would pile up here.
  const resources = process.getActiveResourcesInfo();
  const sockets = resources.filter((r) => r === 'TCPSocketWrap').length;
  const timers = resources.filter((r) => r === 'Timeout').length;
  return { heapUsed, rss, arrayBuffers, external, sockets, timers };
}

const baseline = memory();
let stopping = false;
const sessions = Array.from({ length: config.sessions }, (_, i) => {
  const check = transcriptCheck();
  const state = {
    index: i,
    seconds: 0,
    check,
    failures: {},
    opens: 0,
    error: undefined,
    done: false,
    sourceEnded: false,
    operator: transcribe({
      url: config.url,
      deadAfterMs: config.deadAfterMs,
      maxBufferMs: config.bufferMs,
      ...(config.maxReplayMs !== undefined ? { maxReplayMs: config.maxReplayMs } : {}),
    }),
  };
  state.operator.status$.subscribe((status) => {
    if (status.state === 'open') state.opens += 1;
    if (status.state === 'reconnecting') {
      // What broke each connection (or attempt): kind and close code.
      const key = `${status.error.kind}${status.error.closeCode !== undefined ? ` ${status.error.closeCode}` : ''}`;
      state.failures[key] = (state.failures[key] ?? 0) + 1;
    }
  });
  state.finished = new Promise((resolve) => {
    liveNoise({
      // Different noise per session, the same on every run.
      seed: 0x9e3779b9 + i * 7919,
      speed: config.speed,
      onSecond: (second, word) => {
        state.seconds = second + 1;
        check.expect(second, word);
      },
      shouldStop: () => {
        state.sourceEnded ||= stopping;
        return stopping;
      },
    })
      .pipe(state.operator)
      .subscribe({
        next: (event) => {
          if (event.type === 'final') check.final(event.words);
        },
        error: (error) => {
          state.error = { kind: error.kind, message: error.message, closeCode: error.closeCode };
          resolve();
        },
        complete: () => {
          state.done = true;
          resolve();
        },
      });
  });
  return state;
});

const audioSeconds = () => sessions.reduce((sum, s) => sum + s.seconds, 0);
const reconnects = () => sessions.reduce((sum, s) => sum + (s.operator.stats()?.reconnects ?? 0), 0);
const sample = () =>
  send({
    type: 'sample',
    t: elapsedS(),
    audioSeconds: audioSeconds(),
    reconnects: reconnects(),
    ...memory(),
  });
sample();
const sampler = setInterval(sample, config.sampleEveryMs);

await new Promise((resolve) => setTimeout(resolve, config.seconds * 1000));
stopping = true;
// The sources end at their next whole second: 1/speed s of wall time at most.
while (!sessions.every((s) => s.sourceEnded || s.done || s.error !== undefined)) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
send({ type: 'ended', t: elapsedS() });

// A session that never completes is a finding, not a hang of the benchmark.
const drained = await Promise.race([
  Promise.all(sessions.map((s) => s.finished)).then(() => true),
  new Promise((resolve) => setTimeout(() => resolve(false), config.drainTimeoutMs)),
]);
const hung = !drained;
clearInterval(sampler);
const drainS = elapsedS() - config.seconds;
sample();

const report = sessions.map((s) => {
  s.check.finish(s.seconds);
  const stats = s.operator.stats();
  return {
    session: s.index,
    audioSeconds: s.seconds,
    completed: s.done,
    error: s.error ?? null,
    ...s.check.counts,
    problems: s.check.samples,
    reconnects: stats?.reconnects ?? 0,
    opens: s.opens,
    failures: s.failures,
    replayedMs: stats?.replayedMs ?? 0,
    replayDroppedMs: stats?.replayDroppedMs ?? 0,
    droppedMs: stats?.droppedMs ?? 0,
    peakBufferedMs: stats?.peakBufferedMs ?? 0,
  };
});
// Everything released: what is still held after a gc was kept by the sessions.
for (const s of sessions) s.operator = undefined;
await new Promise((resolve) => setTimeout(resolve, 200));
const after = memory();
send({ type: 'report', hung, drainS, baseline, after, sessions: report });
process.exit(0);
