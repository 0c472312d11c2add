// The Deepgram clients of the cost benchmark. Each sends the PCM of a 16 kHz
// mono WAV file to a server speaking Deepgram's live protocol (the reference
// server's /v1/listen): 3200-byte (100 ms) binary frames, then CloseStream,
// and resolves when the server has sent its last Results and Metadata and
// closed with 1000, to what it heard: `{ replies, framesSent, words }`
// (`replies: null`: Deepgram does not answer each message). Failures reject.
//
// All three ask for the same stream: what `deepgram()` asks for by default,
// `encoding=linear16&sample_rate=16000&channels=1&interim_results=true`, with
// an API key in the Authorization header. Kept apart from bench/clients.mjs
// so that the Vosk clients' processes never load the Deepgram SDK.
import { DeepgramClient } from '@deepgram/sdk';
import { WebSocket } from 'ws';
import { deepgram, fromFile, transcribe } from '../dist/esm/index.js';
import { readFrames } from './clients.mjs';

export const DEEPGRAM_API_KEY = 'bench';
const CLOSE_STREAM = '{"type":"CloseStream"}';

const asError = (error) => (error instanceof Error ? error : new Error(String(error?.message ?? error)));

/** The `/v1/listen` URL of a server at `base` (`ws://127.0.0.1:PORT`), with the stream's query. */
export function listenUrl(base) {
  const url = new URL('/v1/listen', base);
  url.search = 'encoding=linear16&sample_rate=16000&channels=1&interim_results=true';
  return url.toString();
}

/** The words of a Deepgram `Results` message that is final; none for anything else. */
function finalWords(message) {
  if (message?.type !== 'Results' || message.is_final !== true) return [];
  return message.channel?.alternatives?.[0]?.words?.map((w) => w.word) ?? [];
}

export const DEEPGRAM_CLIENTS = {
  /** The library with `deepgram()`: fromFile -> transcribe, subscribed to completion. */
  'rxjs-transcribe-deepgram': (url, wavPath, hooks = {}) =>
    new Promise((resolve, reject) => {
      const operator = transcribe({
        protocol: deepgram({ baseUrl: url, apiKey: DEEPGRAM_API_KEY }),
        ...hooks.transcribeOptions,
      });
      const words = [];
      fromFile(wavPath)
        .pipe(operator)
        .subscribe({
          next: (event) => {
            if (event.type === 'final') for (const w of event.words) words.push(w.text);
          },
          error: (error) => reject(asError(error)),
          complete: () => resolve({ replies: null, framesSent: null, words }),
        });
    }),

  /**
   * Deepgram's official SDK (`@deepgram/sdk`): `listen.v1.connect`, then
   * `sendMedia` for every frame as the file is read, then `sendCloseStream`;
   * done at the close (1000) after Metadata. Any other close rejects (the SDK
   * would reconnect, which a cost run must not hide).
   */
  'deepgram-sdk': (url, wavPath) =>
    new Promise((resolve, reject) => {
      const words = [];
      let framesSent = 0;
      let metadata = false;
      const client = new DeepgramClient({ apiKey: DEEPGRAM_API_KEY, baseUrl: url });
      client.listen.v1
        .connect({
          model: 'nova-3',
          encoding: 'linear16',
          sample_rate: 16000,
          channels: 1,
          interim_results: 'true',
        })
        .then((connection) => {
          connection.on('message', (message) => {
            if (message.type === 'Metadata') metadata = true;
            else for (const w of finalWords(message)) words.push(w);
          });
          connection.on('error', (error) => {
            connection.close();
            reject(asError(error));
          });
          connection.on('close', (event) => {
            connection.close();
            if (event.code === 1000 && metadata) resolve({ replies: null, framesSent, words });
            else
              reject(
                new Error(
                  `closed with ${event.code} ${event.reason ?? ''}${metadata ? '' : ', no Metadata'}`,
                ),
              );
          });
          connection.connect();
          return connection.waitForOpen().then(() =>
            readFrames(
              wavPath,
              (frame) => {
                framesSent += 1;
                connection.sendMedia(frame);
              },
              () => connection.sendCloseStream({ type: 'CloseStream' }),
              (error) => reject(asError(error)),
            ),
          );
        })
        .catch((error) => reject(asError(error)));
    }),

  /** A plain `ws` client, the floor: every frame sent as the file is read, CloseStream, wait for the close. */
  'plain-ws-deepgram': (url, wavPath) =>
    new Promise((resolve, reject) => {
      const words = [];
      let framesSent = 0;
      let metadata = false;
      const socket = new WebSocket(listenUrl(url), {
        headers: { Authorization: `Token ${DEEPGRAM_API_KEY}` },
      });
      socket.on('open', () => {
        readFrames(
          wavPath,
          (frame) => {
            framesSent += 1;
            socket.send(frame);
          },
          () => socket.send(CLOSE_STREAM),
          (error) => reject(asError(error)),
        );
      });
      socket.on('message', (data, isBinary) => {
        if (isBinary) return;
        const message = JSON.parse(data.toString());
        if (message.type === 'Metadata') metadata = true;
        else for (const w of finalWords(message)) words.push(w);
      });
      socket.on('error', (error) => reject(asError(error)));
      socket.on('close', (code, reason) =>
        code === 1000 && metadata
          ? resolve({ replies: null, framesSent, words })
          : reject(new Error(`closed with ${code} ${reason}${metadata ? '' : ', no Metadata'}`)),
      );
    }),
};
