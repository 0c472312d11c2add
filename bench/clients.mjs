// The benchmark clients. Each sends the PCM of a 16 kHz mono WAV file to a
// Vosk-protocol server (the config, 3200-byte frames, the EOF) and resolves
// when the server has answered and closed, to what it heard:
// `{ replies, framesSent, words, ... }`. Failures reject.
//
// `hooks.onSocket(socket)` is given each client's `ws` socket (to sample its
// bufferedAmount); `hooks.onOperator(op)` the `transcribe` operator (to sample
// its flow stats); `hooks.transcribeOptions` are added to `transcribe`'s.
import { createReadStream } from 'node:fs';
import { Observable, switchMap } from 'rxjs';
import { webSocket } from 'rxjs/webSocket';
import * as rxjsWebsockets from 'rxjs-websockets';
import { WebSocket } from 'ws';
import { fromFile, transcribe } from '../dist/esm/index.js';
import { CONFIG_MESSAGE, EOF_MESSAGE, FRAME_BYTES, WAV_HEADER_BYTES } from './lib.mjs';

// rxjs-websockets is CommonJS with a default export.
const makeWebSocketObservable = rxjsWebsockets.default.default ?? rxjsWebsockets.default;
const normalClosureMessage =
  rxjsWebsockets.normalClosureMessage ?? rxjsWebsockets.default.normalClosureMessage;

/**
 * Reads the WAV file's PCM (after the 44-byte header the benchmarks write) in
 * 64 KiB reads and hands on every 3200-byte frame at once, as a Uint8Array
 * view: nothing here waits for the socket, as a client written without flow
 * control does not. (Also used by bench/deepgram-clients.mjs and, with
 * 4800-byte frames of 24 kHz audio, bench/openai-clients.mjs.)
 */
export function readFrames(path, onFrame, onEnd, onError, frameBytes = FRAME_BYTES) {
  const stream = createReadStream(path, { start: WAV_HEADER_BYTES, highWaterMark: 64 * 1024 });
  let carry;
  stream.on('data', (chunk) => {
    const data = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
    let offset = 0;
    for (; data.length - offset >= frameBytes; offset += frameBytes) {
      onFrame(new Uint8Array(data.buffer, data.byteOffset + offset, frameBytes));
    }
    carry = offset < data.length ? data.subarray(offset) : undefined;
  });
  stream.on('end', () => {
    if (carry !== undefined) onFrame(new Uint8Array(carry.buffer, carry.byteOffset, carry.length));
    onEnd();
  });
  stream.on('error', onError);
}

/** What a raw client counts of the server's replies. */
function replyCounter() {
  const words = [];
  let replies = 0;
  return {
    words,
    get replies() {
      return replies;
    },
    /** One reply: a JSON text, or an already parsed object. */
    add(reply) {
      replies += 1;
      const message = typeof reply === 'string' ? JSON.parse(reply) : reply;
      if (Array.isArray(message.result)) for (const w of message.result) words.push(w.word);
    },
  };
}

/** A `ws` WebSocket class that hands each new socket to `onSocket`. */
function trackedWebSocket(onSocket) {
  return class TrackedWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      onSocket?.(this);
    }
  };
}

const asError = (error) => (error instanceof Error ? error : new Error(String(error?.message ?? error)));

export const CLIENTS = {
  /** The library: fromFile -> transcribe (default options unless given), subscribed to completion. */
  'rxjs-transcribe': (url, wavPath, hooks = {}) =>
    new Promise((resolve, reject) => {
      const operator = transcribe({ url, ...hooks.transcribeOptions });
      hooks.onOperator?.(operator);
      const words = [];
      let finals = 0;
      fromFile(wavPath)
        .pipe(operator)
        .subscribe({
          next: (event) => {
            if (event.type !== 'final') return;
            finals += 1;
            for (const w of event.words) words.push(w.text);
          },
          error: (error) => reject(asError(error)),
          complete: () => resolve({ replies: null, framesSent: null, finals, words, flow: operator.stats() }),
        });
    }),

  /** RxJS's own webSocket subject over `ws`: every frame next()ed as the file is read, from the open on. */
  'rxjs-webSocket': (url, wavPath, hooks = {}) =>
    new Promise((resolve, reject) => {
      const counter = replyCounter();
      let framesSent = 0;
      const subject = webSocket({
        url,
        WebSocketCtor: trackedWebSocket(hooks.onSocket),
        binaryType: 'arraybuffer',
        // Binary passes through; the config and EOF are JSON strings already.
        serializer: (value) => value,
        openObserver: {
          next: () => {
            subject.next(CONFIG_MESSAGE);
            readFrames(
              wavPath,
              (frame) => {
                framesSent += 1;
                subject.next(frame);
              },
              () => subject.next(EOF_MESSAGE),
              (error) => reject(asError(error)),
            );
          },
        },
      });
      subject.subscribe({
        next: (message) => counter.add(message),
        // A CloseEvent that was not clean, or a socket error.
        error: (error) =>
          reject(
            error?.code !== undefined
              ? new Error(`closed with ${error.code} ${error.reason}`)
              : asError(error),
          ),
        complete: () => resolve({ replies: counter.replies, framesSent, words: counter.words }),
      });
    }),

  /** The rxjs-websockets package over `ws`, given an input Observable of every frame as the file is read. */
  'rxjs-websockets': (url, wavPath, hooks = {}) =>
    new Promise((resolve, reject) => {
      const counter = replyCounter();
      let framesSent = 0;
      const input$ = new Observable((subscriber) => {
        subscriber.next(CONFIG_MESSAGE);
        readFrames(
          wavPath,
          (frame) => {
            framesSent += 1;
            subscriber.next(frame);
          },
          () => {
            subscriber.next(EOF_MESSAGE);
            subscriber.complete();
          },
          (error) => subscriber.error(error),
        );
      });
      const Socket = trackedWebSocket(hooks.onSocket);
      const socket$ = makeWebSocketObservable(url, {
        protocols: [],
        makeWebSocket: (address) => {
          const socket = new Socket(address);
          socket.binaryType = 'arraybuffer';
          return socket;
        },
      });
      const finish = () => resolve({ replies: counter.replies, framesSent, words: counter.words });
      socket$.pipe(switchMap((getResponses) => getResponses(input$))).subscribe({
        next: (message) => counter.add(message),
        // rxjs-websockets reports the server's 1000 close as an error with this message.
        error: (error) => (error?.message === normalClosureMessage ? finish() : reject(asError(error))),
        complete: finish,
      });
    }),

  /** A plain `ws` client: every frame sent as the file is read, the EOF, then wait for the close. */
  'plain-ws': (url, wavPath, hooks = {}) =>
    new Promise((resolve, reject) => {
      const counter = replyCounter();
      let framesSent = 0;
      const socket = new (trackedWebSocket(hooks.onSocket))(url);
      socket.binaryType = 'arraybuffer';
      socket.on('open', () => {
        socket.send(CONFIG_MESSAGE);
        readFrames(
          wavPath,
          (frame) => {
            framesSent += 1;
            socket.send(frame);
          },
          () => socket.send(EOF_MESSAGE),
          (error) => reject(asError(error)),
        );
      });
      socket.on('message', (data, isBinary) => counter.add(isBinary ? '{}' : data.toString()));
      socket.on('error', (error) => reject(asError(error)));
      socket.on('close', (code, reason) =>
        code === 1000
          ? resolve({ replies: counter.replies, framesSent, words: counter.words })
          : reject(new Error(`closed with ${code} ${reason}`)),
      );
    }),
};
