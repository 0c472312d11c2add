// The reference server in a process of its own, for benchmarks whose clients
// run in the benchmark's process:
//
//   node bench/server-process.mjs [--factor N] [--port N]
//
// Starts the synthetic engine on 127.0.0.1 (a free port, or --port N, so a
// restarted server comes back where its clients look; paced to N x real
// time with --factor, else as fast as it goes), prints `{"url": ...}` on
// stdout, and when its stdin ends closes and prints `{"stats": ...}`.
import { startServer } from '../dist/esm/server/index.js';
import { option } from './lib.mjs';

const factor = option('factor', undefined);
const server = await startServer({
  port: option('port', 0, { zero: true }),
  engine: 'synthetic',
  ...(factor !== undefined ? { realtime: factor } : {}),
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  const stats = server.stats();
  await server.close();
  process.stdout.write(`${JSON.stringify({ stats })}\n`, () => process.exit(0));
});
