// The clients of the doors benchmark (bench/doors.mjs). Each sends the PCM of
// a 16 kHz mono WAV file to a Vosk-protocol server and resolves when the
// server has answered and closed, to what it heard: `{ finals, words, flow }`
// (the library's doors) or `{ replies, framesSent, words }` (the peer).
// `hooks.onSocket(socket)` gets the peer's `ws` socket, `hooks.onStats(fn)`
// a function that returns a door's `stats()`.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { WebSocket } from 'ws';
import { TranscriptionStream, transcribeStream } from '../dist/esm/index.js';
import { CLIENTS as SLOW_CONSUMER_CLIENTS } from './clients.mjs';
import { CONFIG_MESSAGE, EOF_MESSAGE, FRAME_BYTES, WAV_HEADER_BYTES } from './lib.mjs';

/** What a door heard: its finals' words. */
function finalsCounter() {
  const words = [];
  let finals = 0;
  return {
    words,
    get finals() {
      return finals;
    },
    add(event) {
      if (event.type !== 'final') return;
      finals += 1;
      for (const w of event.words) words.push(w.text);
    },
  };
}

async function readAll(readable, counter) {
  const reader = readable.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) counter.add(next.value);
}

export const CLIENTS = {
  /** The Observable path, as in the slow-consumer benchmark: fromFile -> transcribe. */
  observable: (url, wav, hooks = {}) =>
    SLOW_CONSUMER_CLIENTS['rxjs-transcribe'](url, wav, {
      onOperator: (operator) => hooks.onStats?.(() => operator.stats()),
    }),

  /** `Readable.toWeb(createReadStream(wav)).pipeThrough(new TranscriptionStream({ url }))`, read to the end. */
  'transcription-stream': async (url, wav, hooks = {}) => {
    const counter = finalsCounter();
    const stream = new TranscriptionStream({ url });
    hooks.onStats?.(() => stream.stats());
    await readAll(Readable.toWeb(createReadStream(wav)).pipeThrough(stream), counter);
    return {
      replies: null,
      framesSent: null,
      finals: counter.finals,
      words: counter.words,
      flow: stream.stats(),
    };
  },

  /** TranscriptionStream with writes that never wait (the AssemblyAI pattern, on our stream): drops counted. */
  'transcription-stream-unwaited': async (url, wav, hooks = {}) => {
    const counter = finalsCounter();
    const stream = new TranscriptionStream({ url });
    hooks.onStats?.(() => stream.stats());
    const reading = readAll(stream.readable, counter);
    const writer = stream.writable.getWriter();
    const writes = [];
    await new Promise((resolve, reject) => {
      const file = createReadStream(wav);
      file.on('data', (chunk) => writes.push(writer.write(chunk)));
      file.on('end', resolve);
      file.on('error', reject);
    });
    writes.push(writer.close());
    await Promise.all([reading, ...writes]);
    return {
      replies: null,
      framesSent: null,
      finals: counter.finals,
      words: counter.words,
      flow: stream.stats(),
    };
  },

  /** `for await (const event of transcribeStream(createReadStream(wav), { url }))`. */
  'async-iterator': async (url, wav, hooks = {}) => {
    const counter = finalsCounter();
    const events = transcribeStream(createReadStream(wav), { url });
    hooks.onStats?.(() => events.stats());
    for await (const event of events) counter.add(event);
    return {
      replies: null,
      framesSent: null,
      finals: counter.finals,
      words: counter.words,
      flow: events.stats(),
    };
  },

  /**
   * The peer, AssemblyAI's `stream()` pattern: a plain WritableStream over a
   * `ws` socket whose write() sends and returns at once (so `ready` never
   * waits), with the file piped into it. Frames of 3200 bytes, as every client.
   */
  'assemblyai-stream-pattern': (url, wav, hooks = {}) =>
    new Promise((resolve, reject) => {
      const words = [];
      let replies = 0;
      let framesSent = 0;
      const socket = new WebSocket(url);
      socket.binaryType = 'arraybuffer';
      hooks.onSocket?.(socket);
      socket.on('message', (data, isBinary) => {
        replies += 1;
        const message = isBinary ? {} : JSON.parse(data.toString());
        if (Array.isArray(message.result)) for (const w of message.result) words.push(w.word);
      });
      socket.on('error', reject);
      socket.on('close', (code, reason) =>
        code === 1000
          ? resolve({ replies, framesSent, words })
          : reject(new Error(`closed with ${code} ${reason}`)),
      );
      let carry = new Uint8Array(0);
      const sink = new WritableStream({
        write(chunk) {
          const data = new Uint8Array(carry.length + chunk.length);
          data.set(carry, 0);
          data.set(chunk, carry.length);
          let offset = 0;
          for (; data.length - offset >= FRAME_BYTES; offset += FRAME_BYTES) {
            socket.send(data.subarray(offset, offset + FRAME_BYTES));
            framesSent += 1;
          }
          carry = data.subarray(offset);
        },
        close() {
          if (carry.length > 0) {
            socket.send(carry);
            framesSent += 1;
          }
          socket.send(EOF_MESSAGE);
        },
      });
      socket.on('open', () => {
        socket.send(CONFIG_MESSAGE);
        Readable.toWeb(createReadStream(wav, { start: WAV_HEADER_BYTES }))
          .pipeTo(sink)
          .catch(reject);
      });
    }),
};
