// One client of the AssemblyAI or OpenAI reconnect benchmark
// (bench/assemblyai-reconnect.mjs, bench/openai-reconnect.mjs), in a process
// of its own, streaming a WAV file at PACE times real time to the reference
// server's emulator (TLS, synthetic engine) behind the fault proxy:
//
//   node bench/provider-reconnect-client.mjs PROTOCOL CLIENT URL WAV PACE
//
// PROTOCOL is assemblyai (16 kHz, /v3/ws) or openai (24 kHz,
// /v1/realtime?intent=transcription); URL is wss://127.0.0.1:PORT of the
// proxy. The process trusts the server's throwaway certificate through
// NODE_EXTRA_CA_CERTS (set by the benchmark). CLIENT is one of
// - rxjs-transcribe: fromFile(wav) into transcribe({ protocol: assemblyai(...) })
//   (which paces at real time itself), or, for OpenAI,
//   fromFile(wav).pipe(paced({ factor: PACE }), transcribe({ protocol: openaiRealtime(...) })).
//   fromFile waits: while no connection is open it reads nothing more.
// - rxjs-transcribe-live: the same operator fed from a Subject, a 100 ms chunk
//   every 100 ms / PACE whatever happens downstream, as a microphone would.
// - assemblyai-sdk / openai-sdk: the official SDK as its users write it (a
//   100 ms frame every 100 ms / PACE through `transcriber.sendAudio`, or
//   `rt.send({ type: 'input_audio_buffer.append' })`), with nothing added: the
//   SDK does not reconnect, so the loop goes on sending into a closed session
//   (the frames that throw or go nowhere are counted as dropped).
// - assemblyai-sdk-reconnect / openai-sdk-reconnect: the same, plus a naive
//   reconnect loop written for this benchmark (not the SDK's): when the
//   connection closes before the end, a new transcriber / OpenAIRealtimeWS
//   250 ms later (again until one opens); frames produced while none is open
//   are dropped; each new connection is a new session whose times start at 0.
//
// Every 100 ms it samples what the client holds for audio, the process's
// heapUsed, and whether a connection is open. Prints one JSON report on
// stdout, in the shape of bench/deepgram-reconnect-client.mjs's.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Subject, tap } from 'rxjs';
import { assemblyai, fromFile, openaiRealtime, paced, transcribe } from '../dist/esm/index.js';
import { pacedLoop, pcmFrames, sampler } from './reconnect-lib.mjs';

const SAMPLE_MS = 100;
const FRAME_MS = 100;
/** After the last frame, how long a client waits for the end of the stream. */
const END_TIMEOUT_MS = 30_000;
/** The naive reconnect loop's wait before each new connection. */
const RECONNECT_DELAY_MS = 250;
const API_KEY = 'bench';

const [protocol, client, url, wavPath, paceText] = process.argv.slice(2);
const pace = Number(paceText);
const RATE = protocol === 'openai' ? 24_000 : 16_000;
const FRAME_BYTES = (RATE * 2 * FRAME_MS) / 1000;
const FORMAT = { sampleRate: RATE, channels: 1, encoding: 'pcm_s16le' };
const t0 = performance.now();
const now = () => Math.round((performance.now() - t0) * 10) / 10;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const words = [];
const connections = [];
const samples = [];
const report = { client, ok: true, pace, protocol };
const extra = { framesSent: 0, framesDropped: 0, sdkErrors: 0 };

/** A final's words: AssemblyAI's have times; OpenAI's finals have none, only the item's span. */
function pushFinal(event) {
  if (event.words.length > 0) {
    for (const w of event.words) words.push([w.text, w.startMs, w.endMs, now()]);
    return;
  }
  const texts = event.text.split(/\s+/).filter(Boolean);
  const span = (event.endMs - event.startMs) / Math.max(1, texts.length);
  for (let i = 0; i < texts.length; i++) {
    words.push([
      texts[i],
      Math.round(event.startMs + i * span),
      Math.round(event.startMs + (i + 1) * span),
      now(),
    ]);
  }
}

// ---------------------------------------------------------------- rxjs-transcribe

async function runOurs(live) {
  const operator = transcribe({
    protocol:
      protocol === 'openai'
        ? openaiRealtime({ baseUrl: url, apiKey: API_KEY })
        : assemblyai({ baseUrl: url, apiKey: API_KEY }),
    metricsIntervalMs: SAMPLE_MS,
  });
  let latest;
  let state = 'connecting';
  let open;
  operator.status$.subscribe((status) => {
    state = status.state;
    if (status.state === 'open' && open === undefined) {
      open = { openedAtMs: now() };
      connections.push(open);
    } else if (status.state !== 'open' && open !== undefined) {
      open.closedAtMs = now();
      open.why = status.error?.message ?? status.state;
      open = undefined;
    }
  });
  const metrics = operator.metrics$.subscribe((m) => {
    latest = m;
  });
  let readBytes = 0;
  let pacedOutBytes = 0;
  const stop = sampler(samples, now, SAMPLE_MS, () => ({
    connected: state === 'open',
    heldBytes: latest?.audioHeldBytes ?? 0,
    bufferedBytes: Math.round(((latest?.bufferedMs ?? 0) * RATE * 2) / 1000),
    pacedBytes: readBytes - pacedOutBytes,
  }));
  // AssemblyAI's session paces at real time itself; OpenAI's sends as fast as
  // the socket drains, so the file goes through paced() at PACE.
  const file = () =>
    fromFile(wavPath).pipe(
      tap((chunk) => {
        readBytes += chunk.samples.byteLength;
      }),
      ...(protocol === 'openai' ? [paced({ factor: pace })] : []),
      tap((chunk) => {
        pacedOutBytes += chunk.samples.byteLength;
        report.lastFrameAtMs = now();
      }),
    );
  const source = live ? new Subject() : file();
  const done = new Promise((resolve, reject) => {
    source.pipe(operator).subscribe({
      next: (event) => {
        if (event.type === 'final') pushFinal(event);
      },
      error: reject,
      complete: resolve,
    });
  });
  if (live) {
    await pacedLoop(pcmFrames(wavPath, FRAME_BYTES), FRAME_MS, pace, (frame) => {
      const chunk = new Int16Array(frame.length / 2);
      Buffer.from(chunk.buffer).set(frame);
      source.next({ format: FORMAT, samples: chunk });
    });
    report.lastFrameAtMs = now();
    source.complete();
  }
  try {
    await done;
  } finally {
    stop();
    metrics.unsubscribe();
    const stats = operator.stats();
    report.stats = {
      reconnects: stats?.reconnects,
      replayedMs: stats?.replayedMs,
      droppedMs: stats?.droppedMs,
      peakBufferedMs: stats?.peakBufferedMs,
    };
  }
}

// ---------------------------------------------------------------- assemblyai SDK

async function runAssemblyAISdk(reconnect) {
  const { AssemblyAI } = await import('assemblyai');
  const sdk = new AssemblyAI({ apiKey: API_KEY });
  let transcriber;
  let connected = false;
  let open;
  let ending = false;
  let connecting;
  const warnings = [];
  console.warn = (...args) => warnings.push(args.join(' '));

  const connectOnce = async () => {
    const t = sdk.streaming.transcriber({
      websocketBaseUrl: `${url}/v3/ws`,
      sampleRate: RATE,
      apiKey: API_KEY,
    });
    t.on('turn', (turn) => {
      if (!turn.end_of_turn) return;
      for (const w of turn.words) words.push([w.text, w.start, w.end, now()]);
    });
    t.on('error', (error) => {
      extra.sdkErrors += 1;
      report.errors = [...(report.errors ?? []), String(error?.message ?? error)].slice(0, 20);
    });
    t.on('close', (code, reason) => {
      if (t !== transcriber) return;
      connected = false;
      if (open !== undefined) {
        open.closedAtMs = now();
        open.why = `close ${code}${reason ? ` ${reason}` : ''}`;
        open = undefined;
      }
      if (reconnect && !ending) scheduleReconnect();
    });
    transcriber = t;
    // The SDK's connect(): one attempt, and up to 2 retries of its own, for this connection only.
    await t.connect();
    connected = true;
    open = { openedAtMs: now() };
    connections.push(open);
  };
  const scheduleReconnect = () => {
    if (connecting !== undefined) return;
    connecting = (async () => {
      for (;;) {
        await sleep(RECONNECT_DELAY_MS);
        try {
          await connectOnce();
          break;
        } catch (error) {
          report.connectErrors = [...(report.connectErrors ?? []), String(error?.message ?? error)].slice(
            0,
            20,
          );
        }
      }
      connecting = undefined;
    })();
  };

  const stop = sampler(samples, now, SAMPLE_MS, () => ({
    connected,
    heldBytes: transcriber?.socket?.bufferedAmount ?? 0,
    bufferedBytes: 0,
    pacedBytes: 0,
  }));
  // A fault may come before the first connection is ready: then the SDK has none (and the naive loop tries again).
  await connectOnce().catch((error) => {
    report.connectErrors = [String(error?.message ?? error)];
    if (reconnect) scheduleReconnect();
  });
  let firstThrow;
  await pacedLoop(pcmFrames(wavPath, FRAME_BYTES), FRAME_MS, pace, (frame) => {
    // The last frame padded to 50 ms: AssemblyAI refuses shorter ones.
    const padded =
      frame.length < FRAME_BYTES / 2
        ? Buffer.concat([frame, Buffer.alloc(FRAME_BYTES / 2 - frame.length)])
        : frame;
    if (reconnect && !connected) {
      extra.framesDropped += 1;
      return;
    }
    try {
      transcriber.sendAudio(padded);
      extra.framesSent += 1;
    } catch (error) {
      extra.framesDropped += 1;
      firstThrow ??= String(error?.message ?? error);
    }
  });
  report.lastFrameAtMs = now();
  report.framesDropped = extra.framesDropped;
  report.firstThrow = firstThrow ?? null;
  ending = true;
  const deadline = performance.now() + END_TIMEOUT_MS;
  if (reconnect) {
    while (!connected && performance.now() < deadline) await sleep(20);
  }
  if (connected) {
    const closeStarted = performance.now();
    const how = await Promise.race([
      transcriber.close(true).then(() => 'close(true) returned'),
      sleep(Math.max(0, deadline - performance.now())).then(() => 'timeout'),
    ]);
    report.endedHow = `${how} after ${Math.round(performance.now() - closeStarted)} ms`;
    if (open !== undefined) {
      open.closedAtMs = now();
      open.why = 'closed by the client';
      open = undefined;
    }
    connected = false;
  } else {
    report.endedHow = 'no connection open at the end';
    // Released all the same, as a user would.
    await Promise.race([transcriber.close(false), sleep(1000)]);
  }
  extra.connectWarnings = warnings.length;
  stop();
}

// ---------------------------------------------------------------- openai SDK

async function runOpenAISdk(reconnect) {
  const { default: OpenAI } = await import('openai');
  const { OpenAIRealtimeWS } = await import('openai/realtime/ws');
  const ca = readFileSync(process.env.NODE_EXTRA_CA_CERTS, 'utf8');
  const baseURL = `${url.replace(/^wss:/, 'https:')}/v1`;
  const openai = new OpenAI({ apiKey: API_KEY, baseURL });
  let rt;
  let ready = false;
  let open;
  let ending = false;
  let connecting;
  /** The connection now: its audio sent (ms), item spans, commits and completions. */
  let conn;
  let endAnswered;

  const connectOnce = () =>
    new Promise((resolve, reject) => {
      const c = { sentMs: 0, lastEndMs: 0, spans: new Map(), committed: 0, completed: 0, endAnswered: false };
      const socketRt = new OpenAIRealtimeWS({ intent: 'transcription', options: { ca } }, openai);
      rt = socketRt;
      conn = c;
      socketRt.socket.on('open', () => {
        socketRt.send({
          type: 'session.update',
          session: {
            type: 'transcription',
            audio: {
              input: {
                format: { type: 'audio/pcm', rate: RATE },
                transcription: { model: 'gpt-4o-transcribe' },
                turn_detection: { type: 'server_vad' },
              },
            },
          },
        });
      });
      socketRt.on('event', (event) => {
        switch (event.type) {
          case 'session.updated':
            if (!ready) {
              ready = true;
              open = { openedAtMs: now() };
              connections.push(open);
              resolve();
            }
            break;
          case 'input_audio_buffer.speech_started':
            c.spans.set(event.item_id, { startMs: event.audio_start_ms });
            break;
          case 'input_audio_buffer.speech_stopped': {
            const span = c.spans.get(event.item_id) ?? { startMs: c.lastEndMs };
            span.endMs = event.audio_end_ms;
            c.spans.set(event.item_id, span);
            break;
          }
          case 'input_audio_buffer.committed':
            c.committed += 1;
            if (!c.spans.has(event.item_id)) {
              // A commit of ours (the end's): the span is what this connection had sent since the last item.
              c.spans.set(event.item_id, { startMs: c.lastEndMs, endMs: c.sentMs });
              c.endAnswered = true;
              endAnswered?.();
            }
            c.lastEndMs = c.spans.get(event.item_id).endMs ?? c.sentMs;
            break;
          case 'conversation.item.input_audio_transcription.completed': {
            c.completed += 1;
            const span = c.spans.get(event.item_id) ?? { startMs: c.lastEndMs, endMs: c.lastEndMs };
            const texts = String(event.transcript).split(/\s+/).filter(Boolean);
            const each = (span.endMs - span.startMs) / Math.max(1, texts.length);
            for (let i = 0; i < texts.length; i++) {
              words.push([
                texts[i],
                Math.round(span.startMs + i * each),
                Math.round(span.startMs + (i + 1) * each),
                now(),
              ]);
            }
            endAnswered?.();
            break;
          }
        }
      });
      socketRt.on('error', (error) => {
        const detail = error.error;
        if (detail?.code === 'input_audio_buffer_commit_empty' && detail?.event_id === 'sdk_end') {
          c.endAnswered = true;
          endAnswered?.();
          return;
        }
        extra.sdkErrors += 1;
        report.errors = [...(report.errors ?? []), String(error?.message ?? error)].slice(0, 20);
      });
      socketRt.socket.on('close', (code, reason) => {
        if (socketRt !== rt) return;
        const wasReady = ready;
        ready = false;
        if (open !== undefined) {
          open.closedAtMs = now();
          open.why =
            ending && c.endAnswered
              ? 'closed by the client'
              : `close ${code}${reason?.length ? ` ${reason}` : ''}`;
          open = undefined;
        }
        endAnswered?.();
        if (!wasReady) reject(new Error(`closed with ${code} before session.updated`));
        else if (reconnect && !ending) scheduleReconnect();
      });
    });
  const scheduleReconnect = () => {
    if (connecting !== undefined) return;
    connecting = (async () => {
      for (;;) {
        await sleep(RECONNECT_DELAY_MS);
        try {
          await connectOnce();
          break;
        } catch (error) {
          report.connectErrors = [...(report.connectErrors ?? []), String(error?.message ?? error)].slice(
            0,
            20,
          );
        }
      }
      connecting = undefined;
    })();
  };

  const stop = sampler(samples, now, SAMPLE_MS, () => ({
    connected: ready,
    // A closed ws socket adds what is sent to it to bufferedAmount without keeping it: 0 then.
    heldBytes: rt?.socket?.readyState === 1 ? rt.socket.bufferedAmount : 0,
    bufferedBytes: 0,
    pacedBytes: 0,
  }));
  // A fault may come before the first connection is ready: then the SDK has none (and the naive loop tries again).
  await connectOnce().catch((error) => {
    report.connectErrors = [String(error?.message ?? error)];
    if (reconnect) scheduleReconnect();
  });
  await pacedLoop(pcmFrames(wavPath, FRAME_BYTES), FRAME_MS, pace, (frame) => {
    if (!ready) {
      extra.framesDropped += 1;
      if (reconnect) return;
    }
    // The SDK as it is: send() on a closed socket throws nothing (ws drops it); counted above.
    rt.send({ type: 'input_audio_buffer.append', audio: frame.toString('base64') });
    if (ready) {
      extra.framesSent += 1;
      conn.sentMs += (frame.length / 2 / RATE) * 1000;
    }
  });
  report.lastFrameAtMs = now();
  report.framesDropped = extra.framesDropped;
  ending = true;
  const deadline = performance.now() + END_TIMEOUT_MS;
  if (reconnect) {
    while (!ready && performance.now() < deadline) await sleep(20);
  }
  if (ready) {
    const c = conn;
    const whole = () => c.endAnswered && c.completed === c.committed;
    rt.send({ type: 'input_audio_buffer.commit', event_id: 'sdk_end' });
    while (!whole() && ready && performance.now() < deadline) {
      await Promise.race([
        new Promise((resolve) => {
          endAnswered = resolve;
        }),
        sleep(100),
      ]);
    }
    report.endedHow = whole()
      ? 'end commit answered, all items completed'
      : ready
        ? 'timeout'
        : 'closed before the end';
    if (open !== undefined) {
      open.closedAtMs = now();
      open.why = 'closed by the client';
      open = undefined;
    }
    ready = false;
    rt.close();
  } else {
    report.endedHow = 'no connection open at the end';
    rt.close();
  }
  stop();
}

try {
  if (client === 'rxjs-transcribe') await runOurs(false);
  else if (client === 'rxjs-transcribe-live') await runOurs(true);
  else if (client === `${protocol}-sdk`)
    await (protocol === 'openai' ? runOpenAISdk(false) : runAssemblyAISdk(false));
  else if (client === `${protocol}-sdk-reconnect`)
    await (protocol === 'openai' ? runOpenAISdk(true) : runAssemblyAISdk(true));
  else throw new Error(`no client ${client} for ${protocol}`);
} catch (error) {
  report.ok = false;
  report.error = String(error?.message ?? error);
}
report.wallMs = now();
report.words = words;
report.connections = connections;
report.samples = samples;
if (client.includes('-sdk')) report.extra = extra;
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
