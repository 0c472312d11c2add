// Cost per audio hour: the CPU time and wall time each client takes to send
// an hour of 16 kHz audio to a fast reference server (synthetic engine, no
// pacing) and hear every word back. Clients: rxjs-transcribe (fromFile ->
// transcribe), RxJS's webSocket subject, rxjs-websockets, and a plain `ws`
// loop, the floor. Every run is a process of its own (bench/cost-run.mjs),
// which first makes --warmup untimed runs to warm the JIT, so that no client
// pays for the garbage of another; the clients alternate within each round;
// the server runs in a process of its own. Cold rounds (the first run of a
// fresh process, as a command-line tool sees it) come first and are reported
// apart. Then the same for Deepgram's protocol, on the same server's
// /v1/listen (bench/deepgram-clients.mjs): rxjs-transcribe with deepgram(),
// Deepgram's official SDK, and a plain `ws` loop speaking Deepgram, that
// protocol's floor; its ratios are to that floor. The Vosk rounds run first,
// as they did before the Deepgram rows were added. Then OpenAI's Realtime
// transcription (bench/openai-clients.mjs, on /v1/realtime): rxjs-transcribe
// with openaiRealtime() and a plain `ws` loop sending the same base64 append
// events, from a 24 kHz file (the rate OpenAI takes, so neither resamples).
// Writes cost.{json,md} in docs/benchmarks/ (or --out).
//
//   node bench/cost.mjs [--seconds 3600] [--rounds 5] [--warmup 3] [--cold 2] [--window-ms N]
//                       [--deepgram-seconds N (default 1800, or --seconds if less)]
//                       [--openai-seconds N (default 1800, or --seconds if less)]
//                       [--clients rxjs-transcribe,rxjs-webSocket,rxjs-websockets,
//                                  rxjs-transcribe-deepgram,deepgram-sdk,rxjs-transcribe-openai]
//   (or BENCH_SECONDS / BENCH_ROUNDS / ... in the environment; --window-ms
//   sets transcribe's windowMs, default the library's; --clients picks a
//   subset, and each protocol's plain loop runs when any client of its
//   protocol does)
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  canPin,
  describeRevision,
  ensureOutDir,
  FRAME_BYTES,
  fmtMB,
  machine,
  median,
  nodeOnCore,
  option,
  outDir,
  revision,
  root,
  startServerProcess,
  textOption,
  wordsDigest,
  writeNoiseWav,
} from './lib.mjs';
import { writeIndex } from './summary.mjs';

const OURS = 'rxjs-transcribe';
const PLAIN = 'plain-ws';
const ALL_CLIENTS = [OURS, 'rxjs-webSocket', 'rxjs-websockets', PLAIN];
const DG_OURS = 'rxjs-transcribe-deepgram';
const DG_PLAIN = 'plain-ws-deepgram';
const DG_CLIENTS = [DG_OURS, 'deepgram-sdk', DG_PLAIN];
const OA_OURS = 'rxjs-transcribe-openai';
const OA_PLAIN = 'plain-ws-openai';
const OA_CLIENTS = [OA_OURS, OA_PLAIN];
// --clients a,b: a subset (the plain loop of each protocol with a client chosen, its floor, is always run).
const chosen = textOption('clients')?.split(',') ?? [...ALL_CLIENTS, ...DG_CLIENTS, ...OA_CLIENTS];
for (const name of chosen) {
  if (!ALL_CLIENTS.includes(name) && !DG_CLIENTS.includes(name) && !OA_CLIENTS.includes(name))
    throw new RangeError(
      `--clients: no client ${name}; there are ${[...ALL_CLIENTS, ...DG_CLIENTS, ...OA_CLIENTS].join(', ')}`,
    );
}
const pick = (all, plain) =>
  all.some((name) => chosen.includes(name))
    ? all.filter((name) => name === plain || chosen.includes(name))
    : [];
const CLIENT_NAMES = pick(ALL_CLIENTS, PLAIN);
const DG_NAMES = pick(DG_CLIENTS, DG_PLAIN);
const OA_NAMES = pick(OA_CLIENTS, OA_PLAIN);
const seconds = option('seconds', 3600);
// Half as long as the Vosk rows by default (at most 1800 s), so that the
// three Deepgram clients add about half a minute to a run, not a minute.
const deepgramSeconds = option('deepgram-seconds', Math.min(seconds, 1800));
const openaiSeconds = option('openai-seconds', Math.min(seconds, 1800));
const rounds = option('rounds', 5);
const warmup = option('warmup', 3, { zero: true });
const cold = option('cold', 2, { zero: true });
const windowMs = option('window-ms', undefined);
const transcribeOptions = windowMs !== undefined ? { windowMs } : {};
const log = (message) => process.stderr.write(`cost: ${message}\n`);
const startRevision = revision();

const audio = writeNoiseWav(seconds);
audio.digest = wordsDigest(audio.words);
log(`${seconds} s of noise (${fmtMB(audio.pcmBytes)} MB of PCM) in ${audio.path}`);
const dgAudio = DG_NAMES.length === 0 || deepgramSeconds === seconds ? audio : writeNoiseWav(deepgramSeconds);
dgAudio.digest = wordsDigest(dgAudio.words);
if (dgAudio !== audio) log(`${deepgramSeconds} s of noise for the Deepgram rows in ${dgAudio.path}`);
// 24 kHz, as OpenAI takes it. The server resamples it for its 16 kHz engine, so the words
// are not the file's: every client must hear the same ones as the first good run.
const oaAudio = OA_NAMES.length === 0 ? undefined : writeNoiseWav(openaiSeconds, 24_000);
if (oaAudio !== undefined) {
  oaAudio.frames = oaAudio.pcmBytes / 4800;
  oaAudio.sameWords = true;
  log(`${openaiSeconds} s of 24 kHz noise for the OpenAI rows in ${oaAudio.path}`);
}
/** The server on core 1 and every client on core 0, where the machine allows (`canPin`). */
const SERVER_CORE = 1;
const CLIENT_CORE = 0;
const server = await startServerProcess([], undefined, { core: SERVER_CORE });
log(
  `server ${server.url} (synthetic engine, no pacing, own process; Deepgram's protocol at /v1/listen)` +
    (canPin ? `; server pinned to core ${SERVER_CORE}, clients to core ${CLIENT_CORE}` : '; not pinned'),
);

/** One timed run in a fresh process, after `warmupRuns` untimed runs in the same process. */
function inProcess(client, warmupRuns, wav) {
  return new Promise((resolve, reject) => {
    const run = nodeOnCore(CLIENT_CORE, [
      join(root, 'bench', 'cost-run.mjs'),
      client,
      server.url,
      wav.path,
      String(warmupRuns),
      JSON.stringify(transcribeOptions),
    ]);
    const child = spawn(run.command, run.args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)));
      } catch {
        reject(new Error(`the run of ${client} printed no result`));
      }
    });
  });
}

const round1 = (v) => Math.round(v * 10) / 10;

async function once(client, round, isCold, wav = audio) {
  let answer;
  const problems = [];
  try {
    answer = await inProcess(client, isCold ? 0 : warmup, wav);
    if (answer.error !== undefined) problems.push(answer.error);
  } catch (e) {
    problems.push(String(e?.message ?? e));
  }
  if (problems.length === 0 && wav.sameWords === true) {
    // OpenAI's rows: a word per second, the same words for every client.
    const digest = wordsDigest(answer.words);
    wav.agreed ??= digest;
    if (answer.words.length !== wav.words.length || digest !== wav.agreed) {
      problems.push(
        `heard ${answer.words.length} of ${wav.words.length} words, or not those the first run heard`,
      );
    }
  } else if (problems.length === 0) {
    if (answer.words.length !== wav.words.length || wordsDigest(answer.words) !== wav.digest) {
      problems.push(`heard ${answer.words.length} of ${wav.words.length} words, or not the right ones`);
    }
    if (answer.replies !== null && answer.replies !== wav.frames + 1) {
      problems.push(`got ${answer.replies} of ${wav.frames + 1} replies`);
    }
  }
  const ok = problems.length === 0;
  const run = {
    client,
    round,
    cold: isCold,
    ok,
    ...(ok ? {} : { problems }),
    wallMs: ok ? round1(answer.wallMs) : null,
    cpuMs: ok ? round1(answer.cpuUserMs + answer.cpuSystemMs) : null,
    cpuSystemMs: ok ? round1(answer.cpuSystemMs) : null,
  };
  log(
    `${isCold ? `cold ${round}` : `round ${round}`} ${client}: ${ok ? `${run.wallMs.toFixed(0)} ms wall, ${run.cpuMs.toFixed(0)} ms CPU` : `FAILED (${problems.join('; ')})`}`,
  );
  return run;
}

/** Cold rounds, then measured rounds in an order that rotates, of `names` on `wav`, into `into`. */
async function rotation(names, wav, into) {
  for (let round = 1; round <= cold; round++) {
    for (const client of names) into.push(await once(client, round, true, wav));
  }
  for (let round = 1; round <= rounds; round++) {
    // Rotate the order each round, so no client always follows the same one.
    const order = names.map((_, i) => names[(i + round - 1) % names.length]);
    for (const client of order) into.push(await once(client, round, false, wav));
  }
}

const runs = [];
const dgRuns = [];
const oaRuns = [];
let serverStats;
const phaseSeconds = {};
try {
  let t = performance.now();
  await rotation(CLIENT_NAMES, audio, runs);
  phaseSeconds.vosk = Math.round((performance.now() - t) / 1000);
  t = performance.now();
  await rotation(DG_NAMES, dgAudio, dgRuns);
  phaseSeconds.deepgram = Math.round((performance.now() - t) / 1000);
  t = performance.now();
  if (oaAudio !== undefined) await rotation(OA_NAMES, oaAudio, oaRuns);
  phaseSeconds.openai = Math.round((performance.now() - t) / 1000);
} finally {
  serverStats = (await server.stop()).stats;
  rmSync(audio.path, { force: true });
  rmSync(dgAudio.path, { force: true });
  if (oaAudio !== undefined) rmSync(oaAudio.path, { force: true });
}
log(
  `Vosk rounds ${phaseSeconds.vosk ?? '?'} s, Deepgram rounds ${phaseSeconds.deepgram ?? '?'} s, OpenAI rounds ${phaseSeconds.openai ?? '?'} s`,
);

/** Per audio hour: scales a run of `audioSeconds` of audio to 3600 s. */
const perHour = (ms, audioSeconds = seconds) => (ms === null ? null : ms / 1000 / (audioSeconds / 3600));

function summarize(client, isCold, all = runs, audioSeconds = seconds) {
  const measured = all.filter((r) => r.client === client && r.cold === isCold);
  const good = measured.filter((r) => r.ok);
  const pick = (key) => (good.length > 0 ? median(good.map((r) => r[key])) : null);
  const wallMs = pick('wallMs');
  const cpuMs = pick('cpuMs');
  return {
    runs: measured.length,
    failed: measured.length - good.length,
    medianWallMs: wallMs,
    medianCpuMs: cpuMs,
    cpuSecondsPerAudioHour: perHour(cpuMs, audioSeconds),
    wallSecondsPerAudioHour: perHour(wallMs, audioSeconds),
    audioSecondsPerSecond: wallMs === null ? null : audioSeconds / (wallMs / 1000),
  };
}

/** Each client's warm and cold medians, with ratios to the plain loop `floor`. */
function summaries(names, floor, all, audioSeconds) {
  const out = {};
  for (const client of names) {
    const warm = summarize(client, false, all, audioSeconds);
    const coldRuns = summarize(client, true, all, audioSeconds);
    out[client] = { ...warm, cold: coldRuns };
  }
  const plain = out[floor];
  for (const client of names) {
    const s = out[client];
    s.cpuRatio = s.medianCpuMs !== null && plain.medianCpuMs ? s.medianCpuMs / plain.medianCpuMs : null;
    s.wallRatio = s.medianWallMs !== null && plain.medianWallMs ? s.medianWallMs / plain.medianWallMs : null;
    const c = s.cold;
    c.cpuRatio =
      c.medianCpuMs !== null && plain.cold.medianCpuMs ? c.medianCpuMs / plain.cold.medianCpuMs : null;
    c.wallRatio =
      c.medianWallMs !== null && plain.cold.medianWallMs ? c.medianWallMs / plain.cold.medianWallMs : null;
  }
  return out;
}

const summary = CLIENT_NAMES.length > 0 ? summaries(CLIENT_NAMES, PLAIN, runs, seconds) : {};
const dgSummary = DG_NAMES.length > 0 ? summaries(DG_NAMES, DG_PLAIN, dgRuns, deepgramSeconds) : {};
const oaSummary = OA_NAMES.length > 0 ? summaries(OA_NAMES, OA_PLAIN, oaRuns, openaiSeconds) : {};

const data = {
  machine: machine(),
  date: new Date().toISOString(),
  revision: startRevision,
  params: {
    audioSeconds: seconds,
    rounds,
    warmup,
    cold,
    sampleRate: 16000,
    frameBytes: FRAME_BYTES,
    audioBytes: audio.pcmBytes,
    engine: 'synthetic',
    realtime: false,
    pinned: canPin,
    transcribeOptions,
    clients: CLIENT_NAMES,
  },
  server: {
    peakQueuedBytes: serverStats?.peakQueuedBytes ?? null,
    closeCodes: serverStats?.closeCodes ?? null,
  },
  summary,
  runs,
  // Deepgram's protocol, apart: its own audio length, clients, medians and ratios (to plain-ws-deepgram).
  ...(DG_NAMES.length > 0
    ? {
        deepgram: {
          audioSeconds: deepgramSeconds,
          audioBytes: dgAudio.pcmBytes,
          clients: DG_NAMES,
          query: 'encoding=linear16&sample_rate=16000&channels=1&interim_results=true',
          summary: dgSummary,
          runs: dgRuns,
        },
      }
    : {}),
  // OpenAI's Realtime transcription, apart: 24 kHz audio, ratios to plain-ws-openai.
  ...(OA_NAMES.length > 0
    ? {
        openai: {
          audioSeconds: openaiSeconds,
          audioBytes: oaAudio.pcmBytes,
          sampleRate: 24_000,
          frameBytes: 4800,
          clients: OA_NAMES,
          session: 'transcription, audio/pcm 24000, turn_detection null (one commit at the end)',
          summary: oaSummary,
          runs: oaRuns,
        },
      }
    : {}),
  phaseSeconds,
};
ensureOutDir();
writeFileSync(join(outDir, 'cost.json'), `${JSON.stringify(data, null, 1)}\n`);
writeFileSync(join(outDir, 'cost.md'), page(data));
writeIndex();
for (const [sums, floor] of [
  [summary, 'plain ws'],
  [dgSummary, 'the plain Deepgram loop'],
  [oaSummary, 'the plain OpenAI loop'],
]) {
  for (const [client, s] of Object.entries(sums)) {
    log(
      `${client}: ${s.cpuSecondsPerAudioHour?.toFixed(2)} CPU s and ${s.wallSecondsPerAudioHour?.toFixed(2)} wall s per audio hour (${s.cpuRatio?.toFixed(2)}x and ${s.wallRatio?.toFixed(2)}x ${floor})`,
    );
  }
}
log(`wrote cost.json, cost.md, README.md in ${outDir}`);
if ([...runs, ...dgRuns, ...oaRuns].some((r) => !r.ok)) process.exitCode = 1;

function page({
  machine: m,
  date,
  revision: rev,
  params,
  summary: sums,
  runs: all,
  deepgram: dg,
  openai: oa,
}) {
  const num = (v, digits = 2) => (v === null || v === undefined ? 'n/a' : v.toFixed(digits));
  const row = (name, s) =>
    `| ${name} | ${num(s.cpuSecondsPerAudioHour)} | ${num(s.cpuRatio)}x | ${num(s.wallSecondsPerAudioHour)} | ${num(s.wallRatio)}x | ${num(s.audioSecondsPerSecond, 0)} | ${s.runs - s.failed} of ${s.runs} |`;
  const coldRow = (name, s) =>
    `| ${name} | ${num(s.cold.cpuSecondsPerAudioHour)} | ${num(s.cold.cpuRatio)}x | ${num(s.cold.wallSecondsPerAudioHour)} | ${num(s.cold.wallRatio)}x | ${s.cold.runs - s.cold.failed} of ${s.cold.runs} |`;
  const perRun = all
    .map(
      (r) =>
        `| ${r.cold ? `cold ${r.round}` : r.round} | ${r.client} | ${r.ok ? r.wallMs.toFixed(0) : 'n/a'} | ${r.ok ? r.cpuMs.toFixed(0) : `failed: ${(r.problems ?? []).join('; ')}`} |`,
    )
    .join('\n');
  const window = params.transcribeOptions?.windowMs;
  const options =
    window === undefined
      ? 'default options (a 1 s window of unanswered audio, 0.5 s read ahead)'
      : `\`windowMs: ${window}\`, other options the defaults`;
  const ours = sums[OURS];
  const aim = 1.15;
  const verdict =
    ours === undefined
      ? 'rxjs-transcribe was not run.'
      : ours.cpuRatio === null
        ? 'No ratio: a client failed every run.'
        : `rxjs-transcribe spends ${ours.cpuRatio.toFixed(2)}x the CPU of the plain \`ws\` loop per audio hour and takes ${ours.wallRatio.toFixed(2)}x its wall time: ${
            ours.cpuRatio <= aim && ours.wallRatio <= aim
              ? `within the ${aim}x the project aims for.`
              : `**outside the ${aim}x the project aims for.**`
          }`;
  return `# Cost per audio hour

What it costs a client to send an hour of 16 kHz audio to a speech server that is never the
bottleneck, and to hear every word back: CPU seconds and wall seconds, for rxjs-transcribe
and for what a user would write instead. The plain \`ws\` loop, which sends everything at
once and does nothing else, is the floor.

Latest run: ${date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.platform},
${describeRevision(rev)}.
Raw data: [cost.json](cost.json).

## Method

- **Server**: the reference server, synthetic engine, no pacing (it takes audio as fast as
  it can hash it), in a Node process of its own, on 127.0.0.1. It answers each frame, one
  word per second of audio.
- **Cores**: ${params.pinned ? "the server pinned to one core and every client to the other (`taskset`): left to the scheduler, the two processes moved between the 2 cores and a client's CPU per run changed by up to a third, more for a client that waits on replies (ours) than for one that does not" : 'not pinned (no `taskset`, fewer than 2 cores, or BENCH_NO_PIN set): the scheduler moves client and server between cores, and single runs vary more'}.
- **Audio**: ${params.audioSeconds} s of deterministic noise, 16 kHz mono 16-bit
  (${fmtMB(params.audioBytes)} MB of PCM), a WAV file in the temporary directory. Figures are
  scaled to one audio hour.
- **Clients**, all sending the Vosk config, 3200-byte (100 ms) frames and the EOF, and done
  when the server has answered the EOF and closed:
  - \`rxjs-transcribe\`: \`fromFile(wav).pipe(transcribe({ url }))\`, ${options}, subscribed
    to completion; it reads the file only as the server answers.
  - \`rxjs-webSocket\`: RxJS's \`webSocket()\` subject over \`ws\`, every frame \`next()\`ed as
    \`fs.createReadStream\` reads it.
  - \`rxjs-websockets\`: the rxjs-websockets package over \`ws\`, given an Observable of every
    frame as the file is read.
  - \`plain-ws\`: a \`ws\` client that sends every frame as the file is read, then the EOF.
- **Runs**: each in a Node process of its own, so that no client pays for the garbage
  another left. ${params.cold} cold round${params.cold === 1 ? '' : 's'} first (a fresh process, timed at once), then ${params.rounds}
  measured rounds in which the process first makes ${params.warmup} untimed run${params.warmup === 1 ? '' : 's'} to warm the JIT, as in a
  service that has been up a while. Within a round the clients alternate, in an order that
  rotates each round. Wall time runs from the start of the client (before the socket opens)
  to its end; CPU time is the client process's user + system time over the same span
  (\`process.cpuUsage\`), so it leaves out the server. Every run must hear every word, the
  right ones (the raw clients must also get one reply per frame plus one for the EOF).
- The table gives medians; ratios are against the plain \`ws\` loop in the same run.

Run it: \`npm run bench:cost\` (options after \`--\`: \`--seconds N\`, \`--rounds N\`,
\`--warmup N\`, \`--cold N\`, \`--window-ms N\`, \`--deepgram-seconds N\`, \`--clients a,b\` for
a subset, \`--out DIR\`).

## Results: warm processes

| client | CPU s per audio hour | CPU vs plain | wall s per audio hour | wall vs plain | audio s/s | good runs |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${CLIENT_NAMES.map((name) => row(name, sums[name])).join('\n')}

**${verdict}**

## Results: cold processes (the first run of a fresh process)

| client | CPU s per audio hour | CPU vs plain | wall s per audio hour | wall vs plain | good runs |
| --- | ---: | ---: | ---: | ---: | ---: |
${CLIENT_NAMES.map((name) => coldRow(name, sums[name])).join('\n')}

## What it means

- An hour of audio costs a client a fraction of a CPU second on any of these: the client is
  never what limits a transcription service; the recogniser is (the reference server's
  PocketSphinx engine takes about a quarter of a CPU second per audio second).
- Plain \`ws\`, \`webSocket()\` and rxjs-websockets send the whole file at once and hold it
  in the socket until the server takes it ([slow-consumer.md](slow-consumer.md) shows what
  that costs in memory against a slow server). rxjs-transcribe keeps at most one window of
  audio sent and unanswered and reads more as replies come back, so its pace is set by
  round trips, and it parses the WAV, converts and frames the audio, and turns replies into
  events with timestamps on one timeline; this page is the price of that.
- Cold processes pay for compiling more JavaScript; a short-lived command-line run sees the
  cold figures.
${dg === undefined ? '' : deepgramSection(dg, params, num)}${oa === undefined ? '' : openaiSection(oa, num)}
Every run:

| round | client | wall (ms) | CPU (ms) |
| --- | --- | ---: | ---: |
${perRun}
${
  dg === undefined
    ? ''
    : `
Every Deepgram run:

| round | client | wall (ms) | CPU (ms) |
| --- | --- | ---: | ---: |
${dg.runs
  .map(
    (r) =>
      `| ${r.cold ? `cold ${r.round}` : r.round} | ${r.client} | ${r.ok ? r.wallMs.toFixed(0) : 'n/a'} | ${r.ok ? r.cpuMs.toFixed(0) : `failed: ${(r.problems ?? []).join('; ')}`} |`,
  )
  .join('\n')}
`
}${
  oa === undefined
    ? ''
    : `
Every OpenAI run:

| round | client | wall (ms) | CPU (ms) |
| --- | --- | ---: | ---: |
${oa.runs
  .map(
    (r) =>
      `| ${r.cold ? `cold ${r.round}` : r.round} | ${r.client} | ${r.ok ? r.wallMs.toFixed(0) : 'n/a'} | ${r.ok ? r.cpuMs.toFixed(0) : `failed: ${(r.problems ?? []).join('; ')}`} |`,
  )
  .join('\n')}
`
}`;
}

/** The page's part on OpenAI's Realtime transcription: its two clients and the ratio to its plain loop. */
function openaiSection(oa, num) {
  const row = (name, s) =>
    `| ${name} | ${num(s.cpuSecondsPerAudioHour)} | ${num(s.cpuRatio)}x | ${num(s.wallSecondsPerAudioHour)} | ${num(s.wallRatio)}x | ${s.runs - s.failed} of ${s.runs} |`;
  const coldRow = (name, s) =>
    `| ${name} | ${num(s.cold.cpuSecondsPerAudioHour)} | ${num(s.cold.cpuRatio)}x | ${num(s.cold.wallSecondsPerAudioHour)} | ${num(s.cold.wallRatio)}x | ${s.cold.runs - s.cold.failed} of ${s.cold.runs} |`;
  const ours = oa.summary[OA_OURS];
  const verdict =
    ours === undefined || ours.cpuRatio === null
      ? 'No ratio: a client failed every run.'
      : `**rxjs-transcribe with \`openaiRealtime()\` spends ${ours.cpuRatio.toFixed(2)}x the CPU of the plain OpenAI loop per audio hour (aim: at most 1.15x) and takes ${ours.wallRatio.toFixed(2)}x its wall time.**`;
  return `
## OpenAI's Realtime transcription

The same measure over OpenAI's protocol, on the same server's \`/v1/realtime?intent=transcription\`,
from a 24 kHz file of ${oa.audioSeconds} s (${fmtMB(oa.audioBytes)} MB of PCM; the rate OpenAI
takes, so no client resamples), scaled to one audio hour: \`session.update\` (${oa.session}),
then every 100 ms (4,800 bytes) as a base64 \`input_audio_buffer.append\` JSON event, one
commit, and done at the item's completed transcription. Both clients must hear the same words,
one a second.

- \`rxjs-transcribe-openai\`: \`fromFile(wav).pipe(transcribe({ protocol: openaiRealtime({ baseUrl, apiKey, turnDetection: null }) }))\`,
  default options (the replay buffer keeps what is not final, as on every protocol).
- \`plain-ws-openai\`: a \`ws\` client that builds each event by concatenating Node's base64
  of the frame into the JSON text (the cheapest way there is), sends it as the file is read,
  commits, and closes at the completion: the floor. Ratios here are to it.

### OpenAI: warm processes

| client | CPU s per audio hour | CPU vs plain OpenAI | wall s per audio hour | wall vs plain OpenAI | good runs |
| --- | ---: | ---: | ---: | ---: | ---: |
${oa.clients.map((name) => row(name, oa.summary[name])).join('\n')}

${verdict}

### OpenAI: cold processes

| client | CPU s per audio hour | CPU vs plain OpenAI | wall s per audio hour | wall vs plain OpenAI | good runs |
| --- | ---: | ---: | ---: | ---: | ---: |
${oa.clients.map((name) => coldRow(name, oa.summary[name])).join('\n')}
`;
}

/** The page's part on Deepgram's protocol: its clients, medians and ratios to its plain loop. */
function deepgramSection(dg, params, num) {
  const row = (name, s) =>
    `| ${name} | ${num(s.cpuSecondsPerAudioHour)} | ${num(s.cpuRatio)}x | ${num(s.wallSecondsPerAudioHour)} | ${num(s.wallRatio)}x | ${num(s.audioSecondsPerSecond, 0)} | ${s.runs - s.failed} of ${s.runs} |`;
  const coldRow = (name, s) =>
    `| ${name} | ${num(s.cold.cpuSecondsPerAudioHour)} | ${num(s.cold.cpuRatio)}x | ${num(s.cold.wallSecondsPerAudioHour)} | ${num(s.cold.wallRatio)}x | ${s.cold.runs - s.cold.failed} of ${s.cold.runs} |`;
  const ours = dg.summary[DG_OURS];
  const sdk = dg.summary['deepgram-sdk'];
  const said = (name, s) =>
    s === undefined || s.cpuRatio === null
      ? undefined
      : `${name} spends ${s.cpuRatio.toFixed(2)}x the CPU of the plain Deepgram loop per audio hour and takes ${s.wallRatio.toFixed(2)}x its wall time`;
  const verdict = [said('rxjs-transcribe with `deepgram()`', ours), said("Deepgram's SDK", sdk)]
    .filter(Boolean)
    .join('; ');
  return `
## Deepgram's protocol

The same measure over Deepgram's live protocol, on the same server's \`/v1/listen\`: binary
3200-byte frames, then \`CloseStream\`; a client is done when the server has sent its last
\`Results\`, then \`Metadata\`, and closed with 1000 (Deepgram answers no message one for
one: every ${params.engine === 'synthetic' ? 'second of audio brings a final and an interim result' : 'result comes as the server gets to it'}). These rounds run after the Vosk rounds above,
with the same rounds, warm-up and cold rounds, on ${dg.audioSeconds} s of audio
(${fmtMB(dg.audioBytes)} MB of PCM)${dg.audioSeconds === params.audioSeconds ? ' (the same file)' : ''}, scaled to one audio hour. Every client asks for
\`${dg.query}\` (what \`deepgram()\` asks for by default) with
\`Authorization: Token …\`, and must hear every word, the right ones.

- \`rxjs-transcribe-deepgram\`: \`fromFile(wav).pipe(transcribe({ protocol: deepgram({ baseUrl, apiKey }) }))\`,
  default options. Deepgram says nothing per frame, so flow control is the socket's: the
  file is read as the socket takes the frames.
- \`deepgram-sdk\`: Deepgram's SDK (\`@deepgram/sdk\`): \`new DeepgramClient({ apiKey, baseUrl })\`,
  \`listen.v1.connect(...)\`, \`connect()\`, \`waitForOpen()\`, then \`sendMedia\` for every
  frame as \`fs.createReadStream\` reads it, then \`sendCloseStream\`, and the wait for the
  close.
- \`plain-ws-deepgram\`: a \`ws\` client that sends every frame as the file is read, then
  \`CloseStream\`, and waits for the close: the floor of this protocol. Ratios here are to it.

### Deepgram: warm processes

| client | CPU s per audio hour | CPU vs plain Deepgram | wall s per audio hour | wall vs plain Deepgram | audio s/s | good runs |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${dg.clients.map((name) => row(name, dg.summary[name])).join('\n')}

${verdict === '' ? 'No ratio: a client failed every run.' : `**${verdict}.**`}

### Deepgram: cold processes

| client | CPU s per audio hour | CPU vs plain Deepgram | wall s per audio hour | wall vs plain Deepgram | good runs |
| --- | ---: | ---: | ---: | ---: | ---: |
${dg.clients.map((name) => coldRow(name, dg.summary[name])).join('\n')}
`;
}
