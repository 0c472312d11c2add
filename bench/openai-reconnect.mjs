// OpenAI Realtime reconnects: rxjs-transcribe's openaiRealtime() against
// OpenAI's official SDK (`openai`, OpenAIRealtimeWS with intent
// 'transcription'), as it is and with a naive reconnect loop, through the same
// resets and the reference server's /v1/realtime emulator, at 24 kHz. See
// bench/provider-reconnect.mjs. The SDK clients run under Node 24.
//
//   node bench/openai-reconnect.mjs [--seconds 120] [--pace 4] [--reset-every-ms 750] [--clients a,b] [--out DIR]
import { runReconnectBench } from './provider-reconnect.mjs';

await runReconnectBench({
  name: 'openai-reconnect',
  protocol: 'openai',
  title: 'OpenAI Realtime',
  factory: 'openaiRealtime()',
  path: '/v1/realtime?intent=transcription',
  sampleRate: 24_000,
  sdk: "OpenAI's official SDK (`openai` 7.59.0, `OpenAIRealtimeWS` with `intent: 'transcription'`)",
  sdkReconnect:
    'its `reconnect` option is for model sessions only: "Automatic Realtime recovery requires a model session"',
  sdkNode: 'node24',
  sdkNew:
    "`OpenAIRealtimeWS({ intent: 'transcription' })`, `session.update` and a wait for `session.updated`",
  sdkCalls:
    "`new OpenAIRealtimeWS({ intent: 'transcription', options: { ca } }, new OpenAI({ apiKey, baseURL }))`, `session.update` (24 kHz PCM, `server_vad`, as ours), then `rt.send({ type: 'input_audio_buffer.append', audio })` (on a closed socket it throws nothing: `ws` drops the frame), and at the end `input_audio_buffer.commit` and a wait for every item's completion on a connection that is open.",
  ourSource:
    '`fromFile(wav).pipe(paced({ factor: PACE }), transcribe({ protocol: openaiRealtime({ baseUrl, apiKey }) }))`',
  serverNote: 'With server VAD, the emulator commits an item per engine final: one second, one word.',
  defaults: { seconds: 120, pace: 4, resetEveryAudioMs: 3000 },
});
