// Streams one 16 kHz mono WAV file through AssemblyAI's official SDK (`assemblyai`) and prints
// what it saw as one JSON line. Run as a child process by spec/server/assemblyai-sdk.spec.ts,
// with NODE_EXTRA_CA_CERTS naming the test certificate (the SDK connects to wss: only and
// gives its `ws` client no `ca` option; Node reads that variable only at start).
// Usage: node assemblyai-sdk-run.mjs CONFIG_JSON
//   CONFIG_JSON: {"url", "apiKey", "file", "frameMs", "formatTurns", "sampleRate", "tokenFrom"}
//   tokenFrom: an https base URL: mint a temporary token there with the SDK and connect with it.
import { readFileSync } from 'node:fs';
import { AssemblyAI } from 'assemblyai';

const config = JSON.parse(process.argv[2]);
const wav = readFileSync(config.file);
// A canonical WAV: 16-bit mono PCM after the 44-byte header (the LibriVox files are).
const pcm = wav.subarray(44);
const warnings = [];
console.warn = (...args) => warnings.push(args.join(' '));

const client = new AssemblyAI({
  apiKey: config.apiKey,
  ...(config.tokenFrom !== undefined ? { streamingBaseUrl: config.tokenFrom } : {}),
});
const token =
  config.tokenFrom !== undefined
    ? await client.streaming.createTemporaryToken({ expires_in_seconds: 60 })
    : undefined;
const transcriber = client.streaming.transcriber({
  websocketBaseUrl: config.url,
  sampleRate: config.sampleRate ?? 16000,
  ...(token !== undefined ? { token } : { apiKey: config.apiKey }),
  ...(config.formatTurns ? { formatTurns: true } : {}),
});
const turns = [];
const errors = [];
const closes = [];
transcriber.on('turn', (turn) => turns.push(turn));
transcriber.on('error', (error) => errors.push(String(error.message)));
transcriber.on('close', (code, reason) => closes.push({ code, reason }));

const connectStarted = performance.now();
let begin;
try {
  begin = await transcriber.connect();
} catch (error) {
  process.stdout.write(
    `${JSON.stringify({ connectError: String(error.message), code: error.code, warnings })}\n`,
  );
  process.exit(0);
}
const connectMs = performance.now() - connectStarted;

// The SDK sends what it is given as it is: frames of frameMs, paced at real time by the caller.
const frameBytes = ((config.sampleRate ?? 16000) * 2 * (config.frameMs ?? 100)) / 1000;
const started = performance.now();
for (let offset = 0, i = 0; offset < pcm.length; offset += frameBytes, i++) {
  const due = started + i * (config.frameMs ?? 100);
  const wait = due - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  let frame = pcm.subarray(offset, offset + frameBytes);
  // The last frame padded to 50 ms: AssemblyAI refuses shorter ones.
  if (frame.length < frameBytes / 2)
    frame = Buffer.concat([frame, Buffer.alloc(frameBytes / 2 - frame.length)]);
  transcriber.sendAudio(frame);
}
const closeStarted = performance.now();
await transcriber.close(true);
const closeMs = performance.now() - closeStarted;
process.stdout.write(
  `${JSON.stringify({ begin, connectMs, turns, errors, closes, closeMs, warnings, usedToken: token !== undefined })}\n`,
);
