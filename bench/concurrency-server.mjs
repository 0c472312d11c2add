// The reference server for the concurrency benchmark, in a process of its own
// that samples its own CPU and event-loop use:
//
//   node bench/concurrency-server.mjs
//
// Starts the synthetic engine at real-time pace (1x) on 127.0.0.1 (a free
// port) and prints `{"url": ...}` on stdout. When its stdin ends it closes and
// prints `{"stats": ..., "samples": [[epochMs, cpuMicros, eluActiveMs], ...]}`:
// cumulative CPU (user + system) and event-loop active time every 250 ms, so
// the benchmark can cut out any client's window afterwards.
import { performance } from 'node:perf_hooks';
import { startServer } from '../dist/esm/server/index.js';

const SAMPLE_MS = 250;
const server = await startServer({ port: 0, engine: 'synthetic', realtime: 1 });
const samples = [];
const sample = () => {
  const cpu = process.cpuUsage();
  samples.push([
    performance.timeOrigin + performance.now(),
    cpu.user + cpu.system,
    performance.eventLoopUtilization().active,
  ]);
};
sample();
const timer = setInterval(sample, SAMPLE_MS);
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  clearInterval(timer);
  sample();
  const stats = server.stats();
  await server.close();
  process.stdout.write(`${JSON.stringify({ stats, samples })}\n`, () => process.exit(0));
});
