// The reference server over TLS in a process of its own, for the benchmarks
// whose peers are SDKs that connect to wss: only (AssemblyAI's, OpenAI's):
//
//   node bench/tls-server-process.mjs --tls-cert CERT.pem --tls-key KEY.pem [--api-key KEY]
//
// As bench/server-process.mjs: the synthetic engine on 127.0.0.1 (a free
// port), `{"url": ...}` on stdout once it listens (wss://), and when its
// stdin ends it closes and prints `{"stats": ...}`.
import { readFileSync } from 'node:fs';
import { startServer } from '../dist/esm/server/index.js';
import { textOption } from './lib.mjs';

const cert = textOption('tls-cert');
const key = textOption('tls-key');
if (cert === undefined || key === undefined) throw new Error('--tls-cert and --tls-key are needed');
const apiKey = textOption('api-key');
const server = await startServer({
  port: 0,
  engine: 'synthetic',
  tls: { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') },
  ...(apiKey !== undefined ? { apiKeys: [apiKey] } : {}),
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  const stats = server.stats();
  await server.close();
  process.stdout.write(`${JSON.stringify({ stats })}\n`, () => process.exit(0));
});
