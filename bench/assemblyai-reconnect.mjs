// AssemblyAI reconnects: rxjs-transcribe's assemblyai() against AssemblyAI's
// official SDK (`assemblyai`), as it is and with a naive reconnect loop,
// through the same resets and the reference server's /v3/ws emulator. See
// bench/provider-reconnect.mjs. AssemblyAI takes audio no faster than real
// time (close 3007 otherwise), so the audio is short and paced at 1x.
//
//   node bench/assemblyai-reconnect.mjs [--seconds 60] [--pace 1] [--reset-every-ms 5000] [--clients a,b] [--out DIR]
import { runReconnectBench } from './provider-reconnect.mjs';

await runReconnectBench({
  name: 'assemblyai-reconnect',
  protocol: 'assemblyai',
  title: 'AssemblyAI',
  factory: 'assemblyai()',
  path: '/v3/ws',
  sampleRate: 16_000,
  sdk: "AssemblyAI's official SDK (`assemblyai` 4.41.5)",
  sdkReconnect:
    'its `connect()` retries the first connection twice; after that, a close is the end of the session',
  sdkNode: 'node20',
  sdkNew: '`client.streaming.transcriber(...)` and `connect()`',
  sdkCalls:
    '`new AssemblyAI({ apiKey }).streaming.transcriber({ websocketBaseUrl, sampleRate: 16000 })`, `await connect()`, then `sendAudio(frame)` (which throws `Socket is not open for communication` once the socket is closed), and at the end `close(true)` (Terminate, and a wait for Termination) on a connection that is open.',
  ourSource:
    '`fromFile(wav).pipe(transcribe({ protocol: assemblyai({ baseUrl, apiKey }) }))` (the session paces every connection at real time itself, replays included)',
  paceNote:
    'AssemblyAI closes with 3007 for audio faster than real time; the emulator allows 2 s of burst per connection',
  defaults: { seconds: 60, pace: 1, resetEveryAudioMs: 5000 },
});
