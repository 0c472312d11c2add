// The OpenAI Realtime clients of the cost benchmark. Each sends the PCM of a
// 24 kHz mono WAV file to a server speaking OpenAI's Realtime transcription
// protocol (the reference server's /v1/realtime?intent=transcription) as
// base64 `input_audio_buffer.append` events of 100 ms (4,800 bytes), with no
// turn detection (the client commits once, at the end), and resolves when the
// item's transcription has completed, to what it heard:
// `{ replies: null, framesSent, words }`. Failures reject.
//
// Both ask for the same session: what `openaiRealtime({ turnDetection: null })`
// sends, with an API key in the Authorization header. Kept apart from
// bench/clients.mjs so that the Vosk clients' processes never load more than they need.
import { WebSocket } from 'ws';
import { fromFile, openaiRealtime, transcribe } from '../dist/esm/index.js';
import { readFrames } from './clients.mjs';

export const OPENAI_API_KEY = 'bench';
export const OPENAI_RATE = 24_000;
/** 100 ms of 24 kHz 16-bit mono. */
export const OPENAI_FRAME_BYTES = 4800;
const MODEL = 'gpt-4o-mini-transcribe';

const asError = (error) => (error instanceof Error ? error : new Error(String(error?.message ?? error)));

/** The transcription session's URL at a server `base` (`ws://127.0.0.1:PORT`). */
function realtimeUrl(base) {
  const url = new URL('/v1/realtime', base);
  url.search = 'intent=transcription';
  return url.toString();
}

/** The `session.update` both clients send: 24 kHz PCM, the model, no turn detection. */
const SESSION_UPDATE = JSON.stringify({
  type: 'session.update',
  session: {
    type: 'transcription',
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: OPENAI_RATE },
        transcription: { model: MODEL },
        turn_detection: null,
      },
    },
  },
});

export const OPENAI_CLIENTS = {
  /** The library with `openaiRealtime()` (manual commits): fromFile -> transcribe, subscribed to completion. */
  'rxjs-transcribe-openai': (url, wavPath, hooks = {}) =>
    new Promise((resolve, reject) => {
      const operator = transcribe({
        protocol: openaiRealtime({ baseUrl: url, apiKey: OPENAI_API_KEY, model: MODEL, turnDetection: null }),
        ...hooks.transcribeOptions,
      });
      const words = [];
      fromFile(wavPath)
        .pipe(operator)
        .subscribe({
          next: (event) => {
            if (event.type === 'final') words.push(...event.text.split(' ').filter(Boolean));
          },
          error: (error) => reject(asError(error)),
          complete: () => resolve({ replies: null, framesSent: null, words }),
        });
    }),

  /**
   * A plain `ws` client, the floor: session.update once the session is
   * created, every frame as an append event built by string concatenation
   * around Node's base64 (the cheapest way there is), one commit at the end,
   * closed once the item's transcription has completed.
   */
  'plain-ws-openai': (url, wavPath) =>
    new Promise((resolve, reject) => {
      let framesSent = 0;
      const socket = new WebSocket(realtimeUrl(url), {
        headers: { Authorization: `Bearer ${OPENAI_API_KEY}` },
      });
      socket.on('message', (data) => {
        const event = JSON.parse(data.toString());
        if (event.type === 'session.created') socket.send(SESSION_UPDATE);
        else if (event.type === 'session.updated') {
          readFrames(
            wavPath,
            (frame) => {
              framesSent += 1;
              const base64 = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('base64');
              socket.send(`{"type":"input_audio_buffer.append","audio":"${base64}"}`);
            },
            () => socket.send('{"type":"input_audio_buffer.commit"}'),
            (error) => reject(asError(error)),
            OPENAI_FRAME_BYTES,
          );
        } else if (event.type === 'conversation.item.input_audio_transcription.completed') {
          socket.close(1000);
          resolve({ replies: null, framesSent, words: event.transcript.split(' ').filter(Boolean) });
        } else if (event.type === 'error') {
          socket.close();
          reject(new Error(`server error: ${event.error?.message}`));
        }
      });
      socket.on('error', (error) => reject(asError(error)));
    }),
};
