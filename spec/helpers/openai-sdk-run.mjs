// Run under Node 24 (openai 7 declares Node >= 22) by spec/server/openai-sdk.spec.ts:
// streams a file of 24 kHz PCM16 through OpenAI's own SDK (OpenAIRealtimeWS with
// intent 'transcription') to the emulator, and prints every server event as a JSON line.
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';

const { SDK_BASE_URL, SDK_API_KEY, SDK_CA, SDK_PCM, SDK_VAD } = process.env;
const pcm = readFileSync(SDK_PCM);
const ca = readFileSync(SDK_CA, 'utf8');
const FRAME_BYTES = 4800; // 100 ms at 24 kHz
const vad = SDK_VAD === '1';

// With SDK_MINT=1, the session opens with an ephemeral key the SDK minted first
// (client.realtime.clientSecrets.create), as a server does for a browser.
let apiKey = SDK_API_KEY;
if (process.env.SDK_MINT === '1') {
  // The SDK's fetch trusts the test certificate through NODE_EXTRA_CA_CERTS, set by the spec.
  const minter = new OpenAI({ apiKey, baseURL: SDK_BASE_URL });
  const secret = await minter.realtime.clientSecrets.create({ session: { type: 'transcription' } });
  process.stdout.write(
    `${JSON.stringify({ minted: secret.value.slice(0, 3), expiresAt: secret.expires_at })}\n`,
  );
  apiKey = secret.value;
}
const client = new OpenAI({ apiKey, baseURL: SDK_BASE_URL });
const rt = new OpenAIRealtimeWS({ intent: 'transcription', options: { ca } }, client);
const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

let audioSent = false;
let endAnswered = false;
let committed = 0;
let completed = 0;
/** Items the server's VAD stopped: their commits are the server's, not ours. */
const stopped = new Set();

const maybeClose = () => {
  if (endAnswered && completed === committed) rt.close();
};

rt.socket.on('open', () => {
  print({ url: rt.url.toString() });
  rt.send({
    type: 'session.update',
    session: {
      type: 'transcription',
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          transcription: { model: 'gpt-4o-transcribe', language: 'en' },
          turn_detection: vad
            ? { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 }
            : null,
        },
      },
    },
  });
});

rt.on('event', (event) => {
  print({ event });
  switch (event.type) {
    case 'session.updated':
      if (audioSent) break;
      audioSent = true;
      for (let i = 0; i < pcm.length; i += FRAME_BYTES) {
        rt.send({
          type: 'input_audio_buffer.append',
          audio: pcm.subarray(i, i + FRAME_BYTES).toString('base64'),
        });
      }
      rt.send({ type: 'input_audio_buffer.commit', event_id: 'sdk_end' });
      break;
    case 'input_audio_buffer.speech_stopped':
      stopped.add(event.item_id);
      break;
    case 'input_audio_buffer.committed':
      committed += 1;
      // The server takes events in order: a commit not of its VAD answers ours (the only one we send).
      if (!stopped.has(event.item_id)) endAnswered = true;
      break;
    case 'conversation.item.input_audio_transcription.completed':
      completed += 1;
      break;
  }
  maybeClose();
});

rt.on('error', (error) => {
  // The end commit may find the buffer empty (server VAD committed it all): that answers it too.
  const detail = error.error;
  if (detail?.code === 'input_audio_buffer_commit_empty' && detail?.event_id === 'sdk_end') {
    endAnswered = true;
    maybeClose();
    return;
  }
  print({ error: error.message });
});

rt.socket.on('close', (code) => {
  print({ close: code });
  process.exit(0);
});
