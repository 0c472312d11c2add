// npm run demo: starts the reference server with the pocketsphinx engine and
// streams the sample recording to it over a WebSocket, printing partial
// hypotheses as they change and each final line with its time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer } from '../dist/esm/server/index.js';

const root = new URL('..', import.meta.url).pathname;
const sample = join(root, 'samples', 'sense-and-sensibility-0870.wav');
const reference = readFileSync(join(root, 'samples', 'sense-and-sensibility-0870.txt'), 'utf8').trim();
const live = process.stdout.isTTY;

const server = await startServer({ port: 0, engine: 'pocketsphinx', realtime: 4 });
process.stderr.write(
  `reference server (pocketsphinx) on ${server.url}; streaming ${sample} at 4x real time\n\n`,
);

const wav = readFileSync(sample);
const socket = new WebSocket(server.url);
let lastPartial = '';
const clock = (seconds) => `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(2).padStart(5, '0')}`;

socket.on('open', () => {
  socket.send(JSON.stringify({ config: { sample_rate: 16000, words: true } }));
  // The WAV goes as it is, header and all, in 100 ms frames, as a Vosk client would.
  for (let offset = 0; offset < wav.length; offset += 3200) socket.send(wav.subarray(offset, offset + 3200));
  socket.send('{"eof" : 1}');
});
socket.on('message', (data) => {
  const reply = JSON.parse(data.toString());
  if (typeof reply.partial === 'string') {
    if (live && reply.partial !== lastPartial) process.stdout.write(`\r\x1b[2K… ${reply.partial}`);
    lastPartial = reply.partial;
    return;
  }
  if (live) process.stdout.write('\r\x1b[2K');
  if (reply.text) {
    const words = reply.result ?? [];
    const span = words.length > 0 ? `[${clock(words[0].start)} → ${clock(words.at(-1).end)}] ` : '';
    process.stdout.write(`${span}${reply.text}\n`);
  }
});
socket.on('close', async (code, reason) => {
  process.stderr.write(`\nreference: ${reference}\n`);
  await server.close();
  if (code !== 1000) {
    process.stderr.write(`server closed with ${code}: ${reason}\n`);
    process.exitCode = 1;
  }
});
