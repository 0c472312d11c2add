// One client of the Deepgram reconnect benchmark, in a process of its own (so
// its heap is its own), streaming a WAV file at PACE times real time to a
// Deepgram endpoint behind the fault proxy:
//
//   node bench/deepgram-reconnect-client.mjs CLIENT URL WAV PACE
//
// CLIENT is one of
// - rxjs-transcribe: fromFile(wav).pipe(paced({ factor: PACE }), transcribe({ protocol: deepgram(...) })).
//   fromFile waits: while no connection is open it reads nothing more.
// - rxjs-transcribe-live: the same operator fed from a Subject, a 100 ms chunk
//   every 100 ms / PACE whatever happens downstream, as a microphone would.
// - deepgram-sdk: @deepgram/sdk's listen.v1 socket, a 100 ms frame every
//   100 ms / PACE through `sendMedia`, the SDK's public way to send audio. It
//   throws ("Socket is not open.") while the SDK reconnects: those frames are
//   dropped, and counted.
// - deepgram-sdk-queued: the same loop through `connection.socket.send`, the
//   SDK's reconnecting socket, which queues what is sent while it is not open
//   (no bound) and sends the queue when the next connection opens.
//
// Every 100 ms it samples what the client holds for audio and the process's
// heapUsed, and whether a connection is open. For rxjs-transcribe it also
// counts what fromFile has read and paced() has not yet passed on (paced's
// queue, which transcribe's metrics do not see). Prints one JSON report on
// stdout: the final words it heard (text, start and end ms, ms since the start
// when heard), its connections, the samples, and its counters.
import { performance } from 'node:perf_hooks';
import { DeepgramClient } from '@deepgram/sdk';
import { Subject, tap } from 'rxjs';
import { deepgram, fromFile, PCM16_16K_MONO, paced, transcribe } from '../dist/esm/index.js';
import { FRAME_BYTES } from './lib.mjs';
import { pacedLoop, pcmFrames, sampler } from './reconnect-lib.mjs';

const SAMPLE_MS = 100;
const FRAME_MS = 100;
/** After the last frame, how long a client waits for the end of the stream (Metadata, close 1000). */
const END_TIMEOUT_MS = 30_000;
const API_KEY = 'bench';

const [client, url, wavPath, paceText] = process.argv.slice(2);
const pace = Number(paceText);
const t0 = performance.now();
const now = () => Math.round((performance.now() - t0) * 10) / 10;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const words = [];
const connections = [];
const samples = [];
const report = { client, ok: true, pace };

/** The PCM of the WAV file as 100 ms frames. */

// ---------------------------------------------------------------- rxjs-transcribe

async function runOurs(live) {
  const operator = transcribe({
    protocol: deepgram({ baseUrl: url, apiKey: API_KEY }),
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
  // metrics$ samples every SAMPLE_MS; the sampler reads its latest.
  const metrics = operator.metrics$.subscribe((m) => {
    latest = m;
  });
  // What fromFile has read and paced() has not passed on yet: audio paced()
  // holds in its queue, which the operator's metrics do not see.
  let readBytes = 0;
  let pacedOutBytes = 0;
  const stop = sampler(samples, now, SAMPLE_MS, () => ({
    connected: state === 'open',
    heldBytes: latest?.audioHeldBytes ?? 0,
    bufferedBytes: Math.round(((latest?.bufferedMs ?? 0) * PCM16_16K_MONO.sampleRate * 2) / 1000),
    pacedBytes: readBytes - pacedOutBytes,
  }));
  const source = live
    ? new Subject()
    : fromFile(wavPath).pipe(
        tap((chunk) => {
          readBytes += chunk.samples.byteLength;
        }),
        paced({ factor: pace }),
        tap((chunk) => {
          pacedOutBytes += chunk.samples.byteLength;
          report.lastFrameAtMs = now();
        }),
      );
  const done = new Promise((resolve, reject) => {
    source.pipe(operator).subscribe({
      next: (event) => {
        if (event.type !== 'final') return;
        for (const w of event.words) words.push([w.text, w.startMs, w.endMs, now()]);
      },
      error: reject,
      complete: resolve,
    });
  });
  if (live) {
    await pacedLoop(pcmFrames(wavPath, FRAME_BYTES), FRAME_MS, pace, (frame) => {
      // A copy in an Int16Array of its own: the pipeline keeps what it is given.
      const samples = new Int16Array(frame.length / 2);
      Buffer.from(samples.buffer).set(frame);
      source.next({ format: PCM16_16K_MONO, samples });
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

// ---------------------------------------------------------------- @deepgram/sdk

async function runSdk(queued) {
  const dg = new DeepgramClient({ apiKey: API_KEY, baseUrl: url });
  const connection = await dg.listen.v1.connect({
    model: 'nova-3',
    encoding: 'linear16',
    sample_rate: 16000,
    channels: 1,
    interim_results: 'true',
  });
  const rws = connection.socket;
  let open;
  let closeStreamSent;
  let firstCloseAfterCloseStream;
  let ended;
  let metadata = 0;
  const endedOnce = new Promise((resolve) => {
    ended = resolve;
  });
  connection.on('open', () => {
    open = { openedAtMs: now() };
    connections.push(open);
  });
  let closing = false;
  connection.on('close', (event) => {
    if (open !== undefined) {
      open.closedAtMs = now();
      // connection.close() below reports a close 1000 of its own.
      open.why = closing
        ? 'closed by the client'
        : `close ${event.code}${event.reason ? ` ${event.reason}` : ''}`;
      open = undefined;
    }
    if (closeStreamSent !== undefined && firstCloseAfterCloseStream === undefined)
      firstCloseAfterCloseStream = now();
    if (event.code === 1000 && !closing) ended('close 1000');
  });
  connection.on('error', (error) => {
    report.errors = [...(report.errors ?? []), String(error?.message ?? error)].slice(0, 20);
  });
  connection.on('message', (message) => {
    if (message.type === 'Metadata') metadata += 1;
    if (message.type !== 'Results' || message.is_final !== true) return;
    for (const w of message.channel.alternatives[0].words) {
      words.push([w.word, Math.round(w.start * 1000), Math.round(w.end * 1000), now()]);
    }
  });
  // What the SDK holds for audio: its reconnecting socket's bufferedAmount, the
  // queue of what was sent while it was not open plus the open ws's own buffer.
  const stop = sampler(samples, now, SAMPLE_MS, () => ({
    connected: rws.readyState === rws.OPEN,
    heldBytes: rws.bufferedAmount,
    bufferedBytes: 0,
    pacedBytes: 0,
  }));
  connection.connect();
  await connection.waitForOpen();
  let dropped = 0;
  let firstThrow;
  await pacedLoop(pcmFrames(wavPath, FRAME_BYTES), FRAME_MS, pace, (frame) => {
    if (queued) {
      rws.send(frame);
      return;
    }
    try {
      connection.sendMedia(frame);
    } catch (error) {
      dropped += 1;
      firstThrow ??= String(error?.message ?? error);
    }
  });
  report.lastFrameAtMs = now();
  report.framesDropped = dropped;
  report.firstThrow = firstThrow ?? null;
  // The end of the stream: queued, CloseStream goes into the queue like the
  // audio; through the public API it needs an open socket, so wait for one.
  const deadline = performance.now() + END_TIMEOUT_MS;
  if (queued) {
    rws.send('{"type":"CloseStream"}');
    closeStreamSent = now();
  } else {
    while (performance.now() < deadline && closeStreamSent === undefined) {
      try {
        connection.sendCloseStream({ type: 'CloseStream' });
        closeStreamSent = now();
      } catch {
        await sleep(20);
      }
    }
  }
  report.closeStreamAtMs = closeStreamSent ?? null;
  report.endedHow = await Promise.race([
    endedOnce,
    sleep(Math.max(0, deadline - performance.now())).then(() => 'timeout'),
  ]);
  report.metadataMessages = metadata;
  // Reconnects after the end: connections opened once the connection that was
  // to carry CloseStream had closed (queued, CloseStream waits for the next
  // connection to open, which is not counted).
  report.opensAfterCloseStream =
    firstCloseAfterCloseStream === undefined
      ? 0
      : connections.filter((c) => c.openedAtMs > firstCloseAfterCloseStream).length;
  // Private, read to report it: whether the SDK would open yet another connection.
  report.sdkWouldReconnect = rws._shouldReconnect === true;
  report.sdkRetryCount = rws.retryCount;
  stop();
  closing = true;
  connection.close();
}

try {
  if (client === 'rxjs-transcribe') await runOurs(false);
  else if (client === 'rxjs-transcribe-live') await runOurs(true);
  else if (client === 'deepgram-sdk') await runSdk(false);
  else if (client === 'deepgram-sdk-queued') await runSdk(true);
  else throw new Error(`no client ${client}`);
} catch (error) {
  report.ok = false;
  report.error = String(error?.message ?? error);
}
report.wallMs = now();
report.words = words;
report.connections = connections;
report.samples = samples;
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
