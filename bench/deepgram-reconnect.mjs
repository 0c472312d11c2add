// Deepgram reconnects: the same audio streamed at a few times real time to the
// reference server's Deepgram endpoint (/v1/listen, synthetic engine) through
// one TCP fault proxy that keeps resetting the connections, by rxjs-transcribe
// with deepgram() and by Deepgram's official SDK (@deepgram/sdk) with its own
// reconnects. Each client runs in a process of its own
// (bench/deepgram-reconnect-client.mjs), all at once. The synthetic engine
// names each second of audio by its SHA-256, so what each client heard is
// checked word for word and time for time: words lost, doubled or cut
// elsewhere; how much of the audio reached a final; whether final times stay
// on one timeline; and what the client holds for audio while disconnected.
// Writes deepgram-reconnect.{json,md,svg} in docs/benchmarks/ (or --out) and
// the index.
//
//   node bench/deepgram-reconnect.mjs [--seconds 120] [--pace 4]
//        [--reset-every-ms 750] [--reset-every-bytes N]
//        [--clients rxjs-transcribe,rxjs-transcribe-live,deepgram-sdk,deepgram-sdk-queued]
//   (or BENCH_SECONDS / BENCH_PACE / ... in the environment). The default
//   resets every connection open every 3 s of audio (3000 / pace ms of wall
//   time); --reset-every-bytes alone resets each connection after N bytes
//   from its client instead; give both for both.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  describeRevision,
  ensureOutDir,
  FRAME_BYTES,
  fmtMB,
  MB,
  machine,
  option,
  outDir,
  revision,
  root,
  SAMPLE_RATE,
  startServerProcess,
  textOption,
  WAV_HEADER_BYTES,
  writeNoiseWav,
} from './lib.mjs';
import { loadTs } from './load-ts.mjs';
import { analyse as analyseReport, audioWindows, spawnClient, TIME_SLACK_MS } from './reconnect-lib.mjs';
import { writeIndex } from './summary.mjs';
import { lineChart } from './svg.mjs';

const CLIENTS = [
  { name: 'rxjs-transcribe', color: '#0072B2', width: 3.5 },
  { name: 'rxjs-transcribe-live', color: '#56B4E9', width: 2.5, dash: '8 4' },
  { name: 'deepgram-sdk', color: '#D55E00', width: 2.5 },
  { name: 'deepgram-sdk-queued', color: '#E69F00', width: 2.5, dash: '3 3' },
];
/** The plot's line for what rxjs-transcribe's paced() holds, read by fromFile and not yet passed on. */
const PACED_QUEUE = { name: 'ours: paced() queue', color: '#009E73', width: 1.5, dash: '2 3' };
const ALL = CLIENTS.map((c) => c.name);
const chosen = textOption('clients')?.split(',') ?? ALL;
for (const name of chosen) {
  if (!ALL.includes(name)) throw new RangeError(`--clients: no client ${name}; there are ${ALL.join(', ')}`);
}
const CLIENT_NAMES = ALL.filter((name) => chosen.includes(name));

const seconds = option('seconds', 120);
const pace = option('pace', 4);
// Resets: by default every connection open is reset every 3 s of audio (of
// wall time: 3000 / pace ms); --reset-every-bytes N resets each connection
// once N bytes have come from its client instead (give both for both).
const resetEveryBytes = option('reset-every-bytes', undefined);
const resetEveryMs = option('reset-every-ms', resetEveryBytes === undefined ? 3000 / pace : undefined);
/** How long a client waits for the end of the stream after its last frame (bench/deepgram-reconnect-client.mjs). */
const END_TIMEOUT_S = 30;
const FRAME_MS = (FRAME_BYTES / 2 / SAMPLE_RATE) * 1000;
const log = (message) => process.stderr.write(`deepgram-reconnect: ${message}\n`);
const startRevision = revision();

const audio = writeNoiseWav(seconds);
if (new Set(audio.words).size !== audio.words.length)
  throw new Error('two seconds of the audio share a word');
const sources = audioWindows(readFileSync(audio.path).subarray(WAV_HEADER_BYTES), FRAME_BYTES, SAMPLE_RATE);
log(`${seconds} s of noise (${fmtMB(audio.pcmBytes)} MB of PCM) at ${pace}x real time`);

const server = await startServerProcess();
const { faultProxy } = await loadTs('spec/helpers/fault-proxy.ts');
const proxy = await faultProxy(Number(new URL(server.url).port), () =>
  resetEveryBytes !== undefined ? { resetAfterBytes: resetEveryBytes } : {},
);
const resetWhat = [
  resetEveryMs !== undefined ? `every connection open every ${resetEveryMs} ms` : undefined,
  resetEveryBytes !== undefined
    ? `each connection after ${resetEveryBytes} bytes from its client`
    : undefined,
]
  .filter(Boolean)
  .join(', and ');
log(`server ${server.url} (synthetic engine, own process), proxy ${proxy.url}: resets ${resetWhat}`);

/** One client in its own process; resolves to its report. */
const runClient = (name) =>
  spawnClient(
    name,
    process.execPath,
    [join(root, 'bench', 'deepgram-reconnect-client.mjs'), name, proxy.url, audio.path, String(pace)],
    { cwd: root },
  );

const started = performance.now();
let timedResets = 0;
const timer =
  resetEveryMs === undefined
    ? undefined
    : setInterval(() => {
        timedResets += 1;
        proxy.reset();
      }, resetEveryMs);
let reports;
let serverStats;
try {
  log(`${CLIENT_NAMES.join(', ')}: all at once, about ${Math.round(seconds / pace)} s of streaming each`);
  reports = await Promise.all(CLIENT_NAMES.map(runClient));
} finally {
  if (timer !== undefined) clearInterval(timer);
  await proxy.close();
  serverStats = (await server.stop()).stats;
  rmSync(audio.path, { force: true });
}
const runMs = performance.now() - started;

/** What one client heard against what the audio says, and what it held (bench/reconnect-lib.mjs). */
const analyse = (report) =>
  analyseReport(report, {
    words: audio.words,
    pcmBytes: audio.pcmBytes,
    seconds,
    sources,
    frameBytes: FRAME_BYTES,
    sampleRate: SAMPLE_RATE,
    pacedClients: ['rxjs-transcribe'],
  });

const results = reports.map(analyse);
const kb = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : `${(bytes / 1024).toFixed(1)} KB`);
const sec = (ms, digits = 1) => (ms === null || ms === undefined ? 'n/a' : (ms / 1000).toFixed(digits));
for (const r of results) {
  log(
    `${r.name}: ${r.ok ? '' : `FAILED (${r.error}) `}${r.resets} resets; words ${r.words.right}/${r.words.expected} right, ${r.words.lost} lost, ${r.words.doubled} doubled, ${r.words.cutElsewhere} cut elsewhere, ${r.words.unknown} unknown; audio never transcribed ${sec(r.audio.neverTranscribedMs)} s, twice ${sec(r.audio.transcribedTwiceMs)} s; one timeline: ${r.timeline.one ? 'yes' : `no (${r.timeline.restarts} restarts, ${r.timeline.offTimeline} words off)`}; peak held while disconnected ${kb(r.memory.peakHeldWhileDisconnectedBytes)}`,
  );
}

const data = {
  machine: machine(),
  date: new Date().toISOString(),
  revision: startRevision,
  params: {
    audioSeconds: seconds,
    pace,
    resetEveryMs: resetEveryMs ?? null,
    resetEveryBytes: resetEveryBytes ?? null,
    frameBytes: FRAME_BYTES,
    sampleRate: SAMPLE_RATE,
    engine: 'synthetic',
    timeSlackMs: TIME_SLACK_MS,
    endTimeoutSeconds: END_TIMEOUT_S,
    clients: CLIENT_NAMES,
    concurrent: true,
    runSeconds: Math.round(runMs / 100) / 10,
  },
  proxy: { connections: proxy.connections, timedResets },
  server: { closeCodes: serverStats?.closeCodes ?? null, sessionsTotal: serverStats?.sessionsTotal ?? null },
  results,
};
ensureOutDir();
writeFileSync(join(outDir, 'deepgram-reconnect.json'), `${JSON.stringify(data)}\n`);
writeFileSync(join(outDir, 'deepgram-reconnect.svg'), chart(data));
writeFileSync(join(outDir, 'deepgram-reconnect.md'), page(data));
writeIndex();
log(`wrote deepgram-reconnect.json, .svg, .md and README.md in ${outDir} (${(runMs / 1000).toFixed(0)} s)`);
const ours = results.filter((r) => r.name.startsWith('rxjs-transcribe'));
if (
  !ours.every(
    (r) =>
      r.ok && r.timeline.one && r.words.lost + r.words.doubled + r.words.cutElsewhere + r.words.unknown === 0,
  )
) {
  process.exitCode = 1;
}

function chart(d) {
  const styleOf = (name) => CLIENTS.find((c) => c.name === name);
  // One line per run of words whose times climb: a restart at 0 starts another.
  const stamped = d.results.flatMap((r) => {
    const runs = [];
    let previous;
    for (const [, startMs, endMs, atMs] of r.heard) {
      if (previous === undefined || startMs < previous - TIME_SLACK_MS) runs.push([]);
      runs.at(-1).push([atMs / 1000, startMs / 1000]);
      previous = endMs;
    }
    return runs.map((points) => ({ ...styleOf(r.name), points }));
  });
  const covered = d.results.map((r) => {
    const seen = new Uint8Array(d.params.audioSeconds * 10);
    let total = 0;
    const points = [[0, 0]];
    for (const [text, , , atMs] of r.heard) {
      const source = sources.get(text);
      if (source === undefined) continue;
      const before = total;
      for (let f = Math.round(source.startMs / FRAME_MS); f < Math.round(source.endMs / FRAME_MS); f++) {
        if (seen[f] === 0) total += 1;
        seen[f] = 1;
      }
      // Steps: nothing more is covered until a final arrives.
      points.push([atMs / 1000, before / 10], [atMs / 1000, total / 10]);
    }
    points.push([r.wallMs / 1000, total / 10]);
    return { ...styleOf(r.name), points };
  });
  const held = d.results.map((r) => ({
    ...styleOf(r.name),
    points: r.samples.map(([t, , heldBytes, bufferedBytes]) => [
      t / 1000,
      (heldBytes + bufferedBytes) / 1024,
    ]),
  }));
  const ours = d.results.find((r) => r.name === 'rxjs-transcribe');
  const queue = ours && {
    ...PACED_QUEUE,
    points: ours.samples.map(([t, , , , , pacedBytes]) => [t / 1000, pacedBytes / 1024]),
  };
  return lineChart({
    width: 1100,
    title: `Deepgram through resets: ${d.params.audioSeconds} s of audio at ${d.params.pace}x, ${describeResets(d.params, true)}`,
    subtitle: `Each client in its own Node ${d.machine.node} process, all at once · ${d.machine.cpu}, ${d.machine.cores} cores · ${d.date.slice(0, 10)}`,
    xLabel: 'time since the client started (s)',
    legend: [...d.results.map((r) => ({ ...styleOf(r.name) })), ...(queue ? [PACED_QUEUE] : [])],
    panels: [
      {
        title: 'Start time each final word is stamped with (one timeline: a straight climb)',
        yLabel: 'stamped start (s)',
        series: stamped,
      },
      {
        title: `Seconds of the audio in some final, wherever it was cut (of ${d.params.audioSeconds})`,
        yLabel: 'audio (s)',
        series: covered,
      },
      {
        title:
          "Audio held (ours: audioHeldBytes + bufferedMs, and paced()'s queue; SDK: socket.bufferedAmount)",
        yLabel: 'KB',
        series: queue ? [...held, queue] : held,
      },
    ],
  });
}

function describeResets(p, short = false) {
  const parts = [];
  if (p.resetEveryMs !== null) {
    parts.push(
      short
        ? `a reset every ${p.resetEveryMs} ms`
        : `every ${p.resetEveryMs} ms of wall time (${((p.resetEveryMs * p.pace) / 1000).toFixed(1)} s of audio at ${p.pace}x) every connection open is reset (RST both ways)`,
    );
  }
  if (p.resetEveryBytes !== null) {
    parts.push(
      short
        ? `each connection reset after ${p.resetEveryBytes} bytes`
        : `every connection is reset (RST both ways) once ${p.resetEveryBytes} bytes have come from its client (about ${((p.resetEveryBytes / (FRAME_BYTES + 8)) * 0.1).toFixed(1)} s of audio in 100 ms frames)`,
    );
  }
  return parts.join(', and ') || 'no resets';
}

function page(d) {
  const p = d.params;
  const num = (v, digits = 0) => (v === null || v === undefined ? 'n/a' : v.toFixed(digits));
  const mb = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : (bytes / MB).toFixed(1));
  const by = (name) => d.results.find((r) => r.name === name);
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const timeline = (r) =>
    r.timeline.one
      ? `yes (${plural(r.timeline.onTimeline, 'word')})`
      : `no: ${plural(r.timeline.restarts, 'restart')}, ${r.timeline.offTimeline} of ${r.timeline.onTimeline + r.timeline.offTimeline} words off${r.timeline.medianOffByMs !== null ? ` (median ${sec(r.timeline.medianOffByMs)} s)` : ''}`;
  const wordRows = d.results
    .map(
      (r) =>
        `| ${r.name} | ${r.ok ? '' : '**failed** '}${r.resets} | ${num(r.reconnectGapMs.median)} / ${num(r.reconnectGapMs.max)} | ${r.words.right} of ${r.words.expected} | ${r.words.lost} | ${r.words.doubled} | ${r.words.cutElsewhere} | ${r.words.unknown} | ${timeline(r)} |`,
    )
    .join('\n');
  const audioRows = d.results
    .map(
      (r) =>
        `| ${r.name} | ${sec(r.audio.transcribedMs)} of ${p.audioSeconds} | ${sec(r.audio.neverTranscribedMs)} | ${r.audio.neverTranscribedPerResetMs === null ? 'n/a' : sec(r.audio.neverTranscribedPerResetMs, 2)} | ${sec(r.audio.transcribedTwiceMs)} | ${sec(r.audio.droppedBeforeSendingMs)} |`,
    )
    .join('\n');
  const memoryRows = d.results
    .map(
      (r) =>
        `| ${r.name} | ${kb(r.memory.peakHeldWhileDisconnectedBytes)} | ${kb(r.memory.peakHeldBytes)} | ${r.memory.peakPacedQueueBytes === null ? '' : kb(r.memory.peakPacedQueueBytes)} | ${mb(r.memory.peakHeapWhileDisconnectedBytes)} | ${mb(r.memory.medianHeapWhileConnectedBytes)} | ${r.memory.samplesDisconnected} |`,
    )
    .join('\n');
  const endRows = d.results
    .map(
      (r) =>
        `| ${r.name} | ${sec(r.wallMs)} | ${r.connections} | ${r.end.how} | ${r.end.opensAfterCloseStream ?? 'n/a'} | ${r.end.sdkWouldReconnect === null ? 'n/a' : r.end.sdkWouldReconnect ? 'yes' : 'no'} | ${r.otherCloses.length > 0 ? [...new Set(r.otherCloses)].join('; ') : ''} |`,
    )
    .join('\n');
  const findings = [];
  const ours = by('rxjs-transcribe');
  if (ours) {
    findings.push(
      `- **rxjs-transcribe** went through ${plural(ours.resets, 'reset')} and heard ${ours.words.right} of ${ours.words.expected} words: ${ours.words.lost} lost, ${ours.words.doubled} doubled, ${ours.words.cutElsewhere + ours.words.unknown} wrong; final times on one timeline: ${timeline(ours)}. It resent ${sec(ours.stats?.replayedMs ?? 0)} s of audio in all (what the server had not finalised when a connection broke). While disconnected the operator held at most ${kb(ours.memory.peakHeldWhileDisconnectedBytes)} for audio (\`audioHeldBytes\` + \`bufferedMs\`). But \`paced()\`'s queue held up to ${kb(ours.memory.peakPacedQueueBytes)} (${sec(((ours.memory.peakPacedQueueBytes ?? 0) / (SAMPLE_RATE * 2)) * 1000)} s of audio) that \`fromFile\` had read ahead of it, which the operator's metrics do not count: between a source that waits and \`transcribe\`, \`paced()\` does not keep the read-ahead within \`windowMs + readAheadMs\` here.`,
    );
  }
  const live = by('rxjs-transcribe-live');
  if (live) {
    findings.push(
      `- **rxjs-transcribe-live** (a chunk every ${num(FRAME_MS / p.pace)} ms whatever happens, as a microphone would): ${plural(live.resets, 'reset')}, ${live.words.lost} lost, ${live.words.doubled} doubled, ${live.words.cutElsewhere + live.words.unknown} wrong, one timeline: ${timeline(live)}; ${sec(live.audio.droppedBeforeSendingMs)} s of audio dropped by the overflow policy; at most ${kb(live.memory.peakHeldWhileDisconnectedBytes)} held while disconnected (the unfinalised audio and what arrived meanwhile; \`maxBufferMs\`, 5 s by default, bounds the latter).`,
    );
  }
  const sdk = by('deepgram-sdk');
  if (sdk) {
    findings.push(
      `- **deepgram-sdk** (\`sendMedia\`): ${plural(sdk.resets, 'reset')}, ${sdk.words.right} of ${sdk.words.expected} words right; ${sec(sdk.audio.neverTranscribedMs)} s of the ${p.audioSeconds} s never reached a final, ${sec(sdk.audio.droppedBeforeSendingMs)} s of it because \`sendMedia\` threw \`${sdk.end.firstThrow ?? 'nothing'}\` while the SDK reconnected (the frames never left the process). Each reconnect waited ${num(sdk.reconnectGapMs.median)} ms of wall time (median), ${sec((sdk.reconnectGapMs.median ?? 0) * p.pace)} s of audio at ${p.pace}x (${sec(sdk.reconnectGapMs.median ?? 0)} s at real time). Each new connection is a new session whose seconds start at the first frame it got: ${sdk.words.cutElsewhere} words named seconds cut elsewhere, and the times start again at 0 (one timeline: ${timeline(sdk)}). It holds nothing while disconnected, because it keeps nothing.`,
    );
  }
  const queued = by('deepgram-sdk-queued');
  if (queued) {
    findings.push(
      `- **deepgram-sdk-queued** (\`connection.socket.send\`, the SDK's reconnecting socket, which queues while it is not open): ${plural(queued.resets, 'reset')}, ${queued.words.right} of ${queued.words.expected} words right, ${queued.words.cutElsewhere} cut elsewhere; ${sec(queued.audio.neverTranscribedMs)} s of the audio never reached a final (the frames a socket had taken when it was reset), ${sec(queued.audio.transcribedTwiceMs)} s reached two; one timeline: ${timeline(queued)}. It held up to ${kb(queued.memory.peakHeldWhileDisconnectedBytes)} of queued audio while disconnected (${sec(((queued.memory.peakHeldWhileDisconnectedBytes ?? 0) / (SAMPLE_RATE * 2)) * 1000)} s of audio; the queue has no bound, so it grows with the time disconnected), and sent it at once when the next connection opened. Its CloseStream ${queued.end.how === 'close 1000' ? 'was answered (Metadata, close 1000)' : `was not answered within ${END_TIMEOUT_S} s (${queued.end.how})`}; ${plural(queued.end.opensAfterCloseStream ?? 0, 'connection')} opened after the one meant to carry it had closed${queued.end.sdkWouldReconnect ? ', and the SDK would have gone on opening more' : ''}.`,
    );
  }
  return `# Deepgram through connection resets

What a client hears of a Deepgram stream whose connection keeps breaking:
rxjs-transcribe with \`deepgram()\`, which reconnects, resends the audio the server had not
finalised and moves the new connection's times onto the stream's timeline, against
Deepgram's official SDK (\`@deepgram/sdk\`), which reconnects on its own and opens a new
session each time (its times start again at 0).

Latest run: ${d.date.slice(0, 10)}, ${d.machine.cpu}, ${d.machine.cores} cores, Node ${d.machine.node}, ${d.machine.platform},
${describeRevision(d.revision)}; ${d.params.runSeconds} s in all.
Raw data: [deepgram-reconnect.json](deepgram-reconnect.json).

![Word times, audio transcribed and audio held by each client through the resets](deepgram-reconnect.svg)

## Method

- **Server**: the reference server's Deepgram endpoint (\`/v1/listen\`), synthetic engine, no
  pacing, in a Node process of its own. A session names each second of audio it receives
  by the SHA-256 of its samples, so the words of the stream are known before it starts
  (word *i* is the hash of second *i*, from *i* s to *i* + 1 s), and so is every word a
  session that starts elsewhere can say (the hash of the second from any 100 ms frame on).
- **Faults**: the TCP fault proxy of the specs (\`spec/helpers/fault-proxy.ts\`) in front of
  it, shared by every client: ${describeResets(p)}.
- **Audio**: ${p.audioSeconds} s of deterministic noise, 16 kHz mono 16-bit, at ${p.pace}x real time
  (about ${Math.round(p.audioSeconds / p.pace)} s a client), so the resets come mid-stream.
- **Clients**, each in a Node process of its own, all at once, each asking for
  \`encoding=linear16&sample_rate=16000&channels=1&interim_results=true\`:
  - \`rxjs-transcribe\`: \`fromFile(wav).pipe(paced({ factor: ${p.pace} }), transcribe({ protocol: deepgram({ baseUrl, apiKey }) }))\`,
    default options otherwise (reconnects: 8 retries of connections that made no progress,
    250 ms to 10 s with full jitter).
  - \`rxjs-transcribe-live\`: the same operator fed 100 ms chunks from a Subject on a timer at
    ${p.pace}x whatever the connection does, as a microphone would (a source that cannot wait:
    flow control buffers up to \`maxBufferMs\`, 5 s, then drops the oldest).
  - \`deepgram-sdk\`: \`new DeepgramClient({ apiKey, baseUrl })\`, \`listen.v1.connect(...)\`,
    \`connect()\`, \`waitForOpen()\`, then a loop that sends a 100 ms frame every ${num(FRAME_MS / p.pace)} ms with
    \`sendMedia\`, as its users write it. \`sendMedia\` throws while the SDK is reconnecting;
    the loop drops that frame and goes on. Then \`sendCloseStream\` as soon as a connection is
    open, and a wait (${END_TIMEOUT_S} s at most) for the close 1000.
  - \`deepgram-sdk-queued\`: the same loop through \`connection.socket.send\`, the SDK's
    reconnecting socket, which queues what it is given while it is not open and sends the
    queue when a connection opens: the SDK's queue, which \`sendMedia\` does not reach
    while disconnected. CloseStream goes through it too.
- **What is measured**:
  - *Resets*: the client's connections that dropped without a close frame (1006), which is
    what a reset gives (the SDK: its close events; ours: the session going from open to
    reconnecting). Other ends are listed under "How each ended".
  - *Words*: the words of every final result against the audio's, as multisets: *lost* are
    the audio's words never heard, *doubled* the extra copies of words heard more than once,
    *cut elsewhere* the words naming a second of the audio that starts elsewhere than a whole
    second (a session that started mid-second; with speech these would be real words, cut
    differently), *unknown* words that name no audio at all. Per reset: divided by resets.
  - *Audio*: the 100 ms frames of the stream that some final's word covers, wherever it was
    cut: never transcribed is what a user of that client would not have heard, in any
    form; twice, what was in two finals.
  - *One timeline*: every word stamped with the start and end, within ${TIME_SLACK_MS} ms, of the audio
    it names; no final word stamped to start before the one before it ended (a *restart*:
    times from 0 again); no unknown word.
  - *Reconnect gap*: wall time from a connection's end to the next one's open.
  - *Audio held*: every 100 ms, what the client holds for audio it has not had finalised.
    Ours: \`metrics$\`' \`audioHeldBytes\` (the frame store: unsent, unanswered and unfinalised
    frames, with room to spare) plus \`bufferedMs\` as bytes (flow control's buffer). The SDK:
    its reconnecting socket's public \`bufferedAmount\`, its queue plus the open \`ws\`
    socket's unsent bytes. And \`process.memoryUsage().heapUsed\` of the client process,
    which is noisy (garbage not yet collected counts). *While disconnected*: the samples
    between the first open and the last frame at which no connection was open.

Run it: \`npm run bench:deepgram-reconnect\` (options after \`--\`: \`--seconds N\`, \`--pace N\`,
\`--reset-every-ms N\`, \`--reset-every-bytes N\`, \`--clients a,b\`, \`--out DIR\`). The machine
is shared and the clients run at once: times and heap figures are noisy. Word and audio
counts are exact, but the SDK's depend on how long it waits to reconnect, which it draws at
random once per process (between 1 and 5 s, growing 1.3x for each connection that lasted
under 5 s, up to 10 s), and on where in a second each of its sessions starts.

## Results

Words and times:

| client | resets | reconnect gap, median / max (ms) | words right | lost | doubled | cut elsewhere | unknown | one timeline |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${wordRows}

Audio (seconds):

| client | in some final | never transcribed | never transcribed per reset | in two finals | dropped before sending |
| --- | ---: | ---: | ---: | ---: | ---: |
${audioRows}

Audio held:

| client | peak while disconnected | peak while streaming | peak in paced()'s queue | peak heapUsed while disconnected (MB) | median heapUsed while connected (MB) | samples disconnected |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${memoryRows}

How each ended:

| client | wall (s) | connections | end | opens after CloseStream's connection closed | SDK would reconnect again | other closes |
| --- | ---: | ---: | --- | ---: | --- | --- |
${endRows}

## What it means

${findings.join('\n')}
`;
}
