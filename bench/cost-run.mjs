// One cost run of one client, in a process of its own (so no client pays for
// the garbage another left behind): `warmups` untimed runs to warm the JIT,
// then one timed run. Prints one JSON line:
// { wallMs, cpuUserMs, cpuSystemMs, words, replies } or { error }.
//
//   node bench/cost-run.mjs CLIENT URL WAV WARMUPS [TRANSCRIBE_OPTIONS_JSON]
//
// CLIENT is one of bench/clients.mjs (Vosk), bench/deepgram-clients.mjs
// (Deepgram, loaded only for those, so a Vosk run never loads the SDK) or
// bench/openai-clients.mjs (OpenAI Realtime, the names ending in -openai).
import { performance } from 'node:perf_hooks';
import { CLIENTS } from './clients.mjs';

const [client, url, wavPath, warmups, options] = process.argv.slice(2);
const transcribeOptions = options ? JSON.parse(options) : {};
try {
  const run =
    CLIENTS[client] ??
    (client.endsWith('-openai')
      ? (await import('./openai-clients.mjs')).OPENAI_CLIENTS[client]
      : (await import('./deepgram-clients.mjs')).DEEPGRAM_CLIENTS[client]);
  if (run === undefined) throw new Error(`no client ${client}`);
  for (let i = 0; i < Number(warmups); i++) await run(url, wavPath, { transcribeOptions });
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await run(url, wavPath, { transcribeOptions });
  const wallMs = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  process.stdout.write(
    `${JSON.stringify({ wallMs, cpuUserMs: user / 1000, cpuSystemMs: system / 1000, words: result.words, replies: result.replies })}\n`,
  );
} catch (error) {
  process.stdout.write(`${JSON.stringify({ error: String(error?.message ?? error) })}\n`);
}
