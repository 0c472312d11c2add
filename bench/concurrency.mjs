// Concurrency benchmark: how many real-time sessions one client process holds
// with frames leaving on time. For each N (rising), a plain `ws` loop and then
// rxjs-transcribe run N sessions at once against the reference server
// (synthetic engine, real-time pace) in a process of its own; each session
// sends 100 ms frames as a live source produces them. Per step: how late the
// frames left (p50/p99/max), errors, client and server CPU, client heap and
// Buffer memory per session. Writes concurrency.{json,svg,md} to the output
// directory (docs/benchmarks/ unless --out).
//
//   node bench/concurrency.mjs [--sessions 500,1000,2000,3000,4000] [--seconds 10]
//     [--settle 2] [--ramp-rate 500] [--limit-ms 1000] [--clients plain-ws,rxjs-transcribe] [--out DIR]
//   node bench/concurrency.mjs --render   (the page and chart again from concurrency.json)
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  describeRevision,
  ensureOutDir,
  machine,
  option,
  outDir,
  revision,
  root,
  startServerProcess,
  textOption,
} from './lib.mjs';
import { lineChart } from './svg.mjs';

const CLIENTS = [
  { name: 'rxjs-transcribe', color: '#0072B2', width: 3.5 },
  { name: 'plain-ws', color: '#009E73', width: 2.5, dash: '3 3' },
];
/** What the library aims at (issue 7). */
const AIMS = { sessions: 3000, p99Ms: 50, heapPerSessionBytes: 64 * 1024 };

const steps = (textOption('sessions') ?? '500,1000,2000,3000,4000').split(',').map(Number);
if (!steps.every((n) => Number.isInteger(n) && n > 0)) {
  throw new RangeError(`--sessions takes whole numbers separated by commas, got ${textOption('sessions')}`);
}
const only = (textOption('clients') ?? CLIENTS.map((c) => c.name).join(',')).split(',');
if (!only.every((name) => CLIENTS.some((c) => c.name === name))) {
  throw new RangeError(
    `--clients takes ${CLIENTS.map((c) => c.name).join(' and/or ')}, got ${only.join(',')}`,
  );
}
const seconds = option('seconds', 10);
const settleSeconds = option('settle', 2);
const rampRate = option('ramp-rate', 500);
/** A client whose p99 lateness passes this stops stepping up: it cannot keep up. */
const limitMs = option('limit-ms', 1000);
const log = (message) => process.stderr.write(`concurrency: ${message}\n`);
const startRevision = revision();
const started = Date.now();

/** One step in a client process of its own; resolves to its report, or `{ ok: false, error }`. */
function runClient(kind, sessions, url) {
  const args = [
    '--expose-gc',
    join(root, 'bench', 'concurrency-client.mjs'),
    ...['--kind', kind, '--sessions', String(sessions), '--url', url],
    ...['--seconds', String(seconds), '--settle', String(settleSeconds), '--ramp-rate', String(rampRate)],
  ];
  const budgetMs = (sessions / rampRate + settleSeconds + seconds + 90) * 1000;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), budgetMs);
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      out += text;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out));
      } catch {
        resolve({ ok: false, error: `exited with ${signal ?? `status ${code}`} and no report` });
      }
    });
  });
}

/** Cumulative server CPU (µs) and event-loop active time (ms) at an epoch time, interpolated. */
function serverAt(samples, at) {
  const i = samples.findIndex(([t]) => t >= at);
  if (i <= 0) return samples[Math.max(0, i)].slice(1);
  const [ta, ca, ea] = samples[i - 1];
  const [tb, cb, eb] = samples[i];
  const f = (at - ta) / (tb - ta);
  return [ca + f * (cb - ca), ea + f * (eb - ea)];
}

/** Why a step does not count as keeping up (empty: it does). */
function problemsOf(r, sessions) {
  const problems = [];
  if (!r.ok) return [r.error];
  if (r.errors > 0) problems.push(`${r.errors} errors (${[...new Set(r.firstErrors)].join('; ')})`);
  if (r.openedAtWindowStart < sessions)
    problems.push(`${sessions - r.openedAtWindowStart} sessions not open in time`);
  if (r.unsent > 0) problems.push(`${r.unsent} frames due in the window not sent`);
  if (r.sessionsShort > 0) problems.push(`${r.sessionsShort} sessions short of frames`);
  if (r.ringOverflows > 0 || r.unmatchedSends > 0 || r.misaligned > 0) {
    problems.push(
      `frames not matched 1:1 (${r.ringOverflows} overflows, ${r.unmatchedSends} unmatched, ${r.misaligned} misaligned)`,
    );
  }
  if (r.flow && (r.flow.droppedMs > 0 || r.flow.reconnects > 0)) {
    problems.push(`${r.flow.droppedMs} ms of audio dropped, ${r.flow.reconnects} reconnects`);
  }
  return problems;
}

/** Runs every step; resolves to what concurrency.json holds. */
async function measure() {
  const rows = [];
  const stoppedAt = {};
  for (const sessions of steps) {
    // The floor first, then ours, at each N.
    for (const { name: kind } of [...CLIENTS].reverse().filter((c) => only.includes(c.name))) {
      if (stoppedAt[kind] !== undefined) {
        rows.push({ client: kind, sessions, skipped: `stopped after ${stoppedAt[kind]} sessions` });
        continue;
      }
      // The server samples its own CPU and event-loop use: its report has them.
      const server = await startServerProcess([], 'concurrency-server.mjs');
      log(`${kind} x ${sessions} ...`);
      const r = await runClient(kind, sessions, server.url);
      const { stats, samples } = await server.stop();
      const problems = problemsOf(r, sessions);
      const row = { client: kind, sessions, ok: problems.length === 0, problems };
      if (r.ok) {
        const [c0, e0] = serverAt(samples, r.windowEpochMs[0]);
        const [c1, e1] = serverAt(samples, r.windowEpochMs[1]);
        const spanMs = r.windowEpochMs[1] - r.windowEpochMs[0];
        Object.assign(row, {
          lateness: r.lateness,
          sourceLateness: r.sourceLateness,
          framesDue: r.framesDue,
          framesSent: r.framesSent,
          unsent: r.unsent,
          sessionsShort: r.sessionsShort,
          errors: r.errors,
          finals: r.finals,
          clientCpuPercent: round(r.cpuPercent, 1),
          clientCpuMicrosPerFrame: round((r.cpuPercent * 10 * r.windowMs) / r.framesSent, 1),
          clientEventLoopUtilization: round(r.eventLoopUtilization, 3),
          clientGc: { pausePercent: round(r.gcPercent, 2), major: r.gcMajor, minor: r.gcMinor },
          machineCpuPercent: r.machineCpuPercent === null ? null : round(r.machineCpuPercent, 1),
          serverCpuPercent: round(((c1 - c0) / 1000 / spanMs) * 100, 1),
          serverEventLoopUtilization: round((e1 - e0) / spanMs, 3),
          heapPerSessionBytes: Math.round(r.memory.heapPerSession),
          arrayBuffersPerSessionBytes: Math.round(r.memory.arrayBuffersPerSession),
          rssPerSessionBytes: Math.round(r.memory.rssPerSession),
          rampMs: r.rampMs,
          allOpenMs: r.allOpenMs,
          windowMs: r.windowMs,
          ...(r.flow ? { flow: r.flow } : {}),
          memory: r.memory,
          server: { closeCodes: stats.closeCodes, peakQueuedBytes: stats.peakQueuedBytes },
        });
      }
      rows.push(row);
      const l = row.lateness;
      log(
        `${kind} x ${sessions}: ${row.ok ? 'ok' : `PROBLEMS: ${problems.join('; ')}`}` +
          (l
            ? `, lateness p50 ${l.p50} p99 ${l.p99} max ${l.max} ms, client CPU ${row.clientCpuPercent}%, ` +
              `server CPU ${row.serverCpuPercent}%, heap/session ${kb(row.heapPerSessionBytes)} KB, ` +
              `arrayBuffers/session ${kb(row.arrayBuffersPerSessionBytes)} KB`
            : ''),
      );
      if (!row.ok || !(l?.p99 <= limitMs)) stoppedAt[kind] = sessions;
    }
  }

  return {
    summary: summarise(rows),
    machine: machine(),
    date: new Date().toISOString(),
    revision: startRevision,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    params: {
      sessions: steps,
      clients: only,
      windowSeconds: seconds,
      settleSeconds,
      rampRatePerSecond: rampRate,
      limitMs,
      frameMs: 100,
      frameBytes: 3200,
      engine: 'synthetic',
      serverRealtimeFactor: 1,
      aims: AIMS,
    },
    rows,
  };
}

// --render: the page and chart again from concurrency.json, without measuring.
const data = process.argv.includes('--render')
  ? JSON.parse(readFileSync(join(outDir, 'concurrency.json'), 'utf8'))
  : await measure();
ensureOutDir();
if (!process.argv.includes('--render')) {
  writeFileSync(join(outDir, 'concurrency.json'), `${JSON.stringify(data, null, 1)}\n`);
}
writeFileSync(join(outDir, 'concurrency.svg'), chart(data));
writeFileSync(join(outDir, 'concurrency.md'), page(data));
log(`wrote concurrency.json, concurrency.svg, concurrency.md in ${outDir} (${data.durationSeconds} s)`);
if (data.rows.some((r) => r.ok === false && r.lateness === undefined)) process.exitCode = 1;

function round(value, digits) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function kb(bytes) {
  return bytes === undefined || bytes === null ? 'n/a' : (bytes / 1024).toFixed(1);
}

function measured(client) {
  return data.rows.filter((r) => r.client === client && r.lateness !== undefined);
}

function chart({ machine: m, date, rows: all }) {
  const aim = {
    name: `aim (for ${AIMS.sessions} sessions, the vertical line)`,
    color: '#999',
    width: 1.5,
    dash: '6 4',
  };
  const xs = [0, Math.max(...all.map((r) => r.sessions))];
  const series = (value) =>
    CLIENTS.map((style) => ({
      ...style,
      points: all
        .filter((r) => r.client === style.name && r.lateness !== undefined)
        .map((r) => [r.sessions, value(r)]),
    }));
  // Lateness spans 1 ms to seconds: on a log scale (lineChart draws linear axes).
  const log = (ms) => Math.log10(Math.max(1, ms));
  return lineChart({
    title: 'Concurrent real-time sessions in one client process',
    subtitle: `100 ms frames at 1x, client and server on one machine · ${m.cpu}, ${m.cores} cores · Node ${m.node} · ${date.slice(0, 10)}`,
    xLabel: 'concurrent sessions',
    legend: [...CLIENTS, aim],
    markers: [{ x: AIMS.sessions, color: '#bbb' }],
    panels: [
      {
        title: `Frame lateness p99 (send called minus due), log scale: 1 = 10 ms, 2 = 100 ms, 3 = 1 s; aim ${AIMS.p99Ms} ms`,
        yLabel: 'log10 of p99 lateness (ms)',
        series: [
          ...series((r) => log(r.lateness.p99 ?? 1)),
          { ...aim, points: xs.map((x) => [x, log(AIMS.p99Ms)]) },
        ],
      },
      {
        title: 'Client CPU over the window (user + system, % of one core)',
        yLabel: '% of a core',
        series: series((r) => r.clientCpuPercent),
      },
      {
        title: 'Client JS heap per session (heapUsed after GC, minus the baseline, / N)',
        yLabel: 'KB per session',
        series: [
          ...series((r) => r.heapPerSessionBytes / 1024),
          { ...aim, points: xs.map((x) => [x, AIMS.heapPerSessionBytes / 1024]) },
        ],
      },
    ],
  });
}

/** The most sessions a client held within the aims' lateness, and its row at the aimed number of sessions. */
function summarise(rows) {
  const summary = {};
  for (const { name } of CLIENTS) {
    const list = rows.filter((r) => r.client === name && r.lateness !== undefined);
    const within = list.filter((r) => r.ok && r.lateness.p99 < AIMS.p99Ms);
    const atAim = list.find((r) => r.sessions === AIMS.sessions);
    summary[name] = {
      maxSessionsWithinP99Aim: within.reduce((best, r) => Math.max(best, r.sessions), 0),
      atAimSessions:
        atAim === undefined
          ? null
          : {
              ok: atAim.ok,
              p99Ms: atAim.lateness.p99,
              heapPerSessionBytes: atAim.heapPerSessionBytes,
              arrayBuffersPerSessionBytes: atAim.arrayBuffersPerSessionBytes,
              clientCpuPercent: atAim.clientCpuPercent,
            },
    };
  }
  const ours = summary['rxjs-transcribe'].atAimSessions;
  summary.aimsMet =
    ours === null
      ? false
      : ours.ok && ours.p99Ms < AIMS.p99Ms && ours.heapPerSessionBytes < AIMS.heapPerSessionBytes;
  return summary;
}

function page(d) {
  const { machine: m, date, revision: rev, params: p, summary } = d;
  const ms = (v) => (v === null || v === undefined ? 'n/a' : Number.isFinite(v) ? String(v) : '∞');
  // Unsent frames count as late by the time the benchmark gave up on them: a lower bound.
  const atLeast = (r, share) => (r.unsent > share * r.framesDue ? '≥ ' : '');
  const line = (r) =>
    r.lateness === undefined
      ? `| ${r.sessions} | ${r.client} | ${r.skipped ?? (r.problems ?? []).join('; ')} | | | | | | | | | | |`
      : `| ${r.sessions} | ${r.client} | ${ms(r.lateness.p50)} | ${atLeast(r, 0.01)}${ms(r.lateness.p99)} | ${atLeast(r, 0)}${ms(r.lateness.max)} | ${r.errors}${r.unsent > 0 ? ` (${r.unsent} unsent)` : ''} | ${r.clientCpuPercent} | ${r.serverCpuPercent} | ${Math.round(r.serverEventLoopUtilization * 100)}% | ${r.machineCpuPercent ?? 'n/a'} | ${kb(r.heapPerSessionBytes)} | ${kb(r.arrayBuffersPerSessionBytes)} | ${r.ok ? 'yes' : `no: ${r.problems.join('; ')}`} |`;
  const ours = measured('rxjs-transcribe');
  const plain = measured('plain-ws');
  const atAim = ours.find((r) => r.sessions === p.aims.sessions);
  const verdict = [];
  if (atAim === undefined) {
    verdict.push(
      `- **Lateness at ${p.aims.sessions} sessions: not measured** (${
        d.rows.find((r) => r.client === 'rxjs-transcribe' && r.sessions === p.aims.sessions)?.skipped ??
        'not among the steps'
      }): **missed**.`,
    );
  } else {
    const latOk = atAim.ok && atAim.lateness.p99 < p.aims.p99Ms;
    verdict.push(
      `- **Lateness at ${p.aims.sessions} sessions: ${latOk ? 'met' : 'missed'}.** p99 ${ms(atAim.lateness.p99)} ms against the aim of under ${p.aims.p99Ms} ms${atAim.ok ? '' : ` (and: ${atAim.problems.join('; ')})`}.`,
      `- **Heap per session at ${p.aims.sessions} sessions: ${atAim.heapPerSessionBytes < p.aims.heapPerSessionBytes ? 'met' : 'missed'}.** ${kb(atAim.heapPerSessionBytes)} KB against the aim of under ${p.aims.heapPerSessionBytes / 1024} KB; Buffer memory (arrayBuffers, outside the heap) ${kb(atAim.arrayBuffersPerSessionBytes)} KB more per session.`,
    );
  }
  const heldBy = (name) => summary[name].maxSessionsWithinP99Aim || 'none of the steps';
  verdict.push(
    `- The most sessions held with every frame sent and p99 under ${p.aims.p99Ms} ms: rxjs-transcribe ${heldBy('rxjs-transcribe')}, plain \`ws\` ${heldBy('plain-ws')}.`,
  );
  // CPU per frame where both kept up: the cost of the library over the floor.
  const both = ours.filter(
    (o) => o.ok && o.lateness.p99 < p.aims.p99Ms && plain.some((q) => q.sessions === o.sessions && q.ok),
  );
  const cpuLine = both.map((o) => {
    const q = plain.find((r) => r.sessions === o.sessions);
    return `${o.sessions} sessions: ${o.clientCpuMicrosPerFrame} µs against ${q.clientCpuMicrosPerFrame} µs (${(o.clientCpuMicrosPerFrame / q.clientCpuMicrosPerFrame).toFixed(2)}x)`;
  });
  const heapRange = (list) => {
    const v = list.filter((r) => r.sessions >= 1000).map((r) => r.heapPerSessionBytes);
    return v.length === 0 ? 'n/a' : `${kb(Math.min(...v))}–${kb(Math.max(...v))}`;
  };
  const busiest = Math.max(...d.rows.map((r) => r.machineCpuPercent ?? 0));
  const serverBound = d.rows
    .filter((r) => r.serverEventLoopUtilization >= 0.95)
    .map((r) => `${r.sessions} sessions (${r.client})`);
  return `# Concurrency: real-time sessions per client process

How many live audio streams one Node process can send with rxjs-transcribe, on time,
compared with the least a client can do: a plain \`ws\` loop. Each session is a live
source (a microphone, a call) producing a 100 ms frame every 100 ms; the question is how
late frames leave as the number of sessions grows, what it costs in CPU, and how much
memory each session holds.

Latest run: ${date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.platform},
${describeRevision(rev)}; the whole run took ${d.durationSeconds} s.
Raw data, with p90 and p99.9, the sources' own lateness, GC and event-loop use: [concurrency.json](concurrency.json).

## Method

- **Server**: the reference server (synthetic engine, consuming audio at 1x real time) in a
  Node process of its own on 127.0.0.1, a fresh one per step, sampling its own CPU
  (\`process.cpuUsage\`) and event-loop use every 250 ms. Client and server share the
  ${m.cores} cores.
- **Steps**: N = ${p.sessions.join(', ')} sessions; at each N, plain \`ws\` first, then
  rxjs-transcribe, each in a fresh Node process (\`--expose-gc\`, no other flags). A client
  stops stepping up after a step with errors, unsent frames, or p99 lateness over ${p.limitMs} ms.
- **Sources**: one shared clock (a 1 ms timer over 100 slots of 1 ms) drives every
  session's source; frame k of session i is due at \`phase_i + k × 100 ms\`, phases spread
  evenly over the 100 ms period. A late tick emits every frame due by then, so a busy event
  loop shows as lateness, not as missing frames. Frames are 3,200 bytes of 16 kHz mono
  16-bit noise, views of one preallocated buffer, so the source allocates nothing per frame.
  Both clients get exactly the same sources.
- **Clients**:
  - \`plain-ws\`: one \`ws\` WebSocket per session (no compression); the config at open,
    then \`socket.send(frame)\` as the source emits it (frames emitted before the open are
    held and sent at open); every reply \`JSON.parse\`d and counted.
  - \`rxjs-transcribe\`: per session \`source$.pipe(transcribe({ url, socketFactory }))\`
    with default options (one \`transcribe()\` operator per session), the source an
    Observable of \`{ format, samples }\` chunks; events counted. \`socketFactory\` wraps the
    library's own Node socket factory (not exported by the package: imported from
    \`dist/esm/transport/node-socket.js\`), only to time each \`send\`.
- **Ramp**: sessions open at ${p.rampRatePerSecond} per second (so the handshake storm is
  not measured); once all are open (\`allOpenMs\` in the JSON; a step fails when some are not
  within 30 s), ${p.settleSeconds} s to settle, then the **window** of
  ${p.windowSeconds} s is measured. Frames due before or after it are not counted.
- **Lateness** of a frame: when the client called its socket's \`send\` for it, minus when it
  was due (both \`performance.now()\`). A per-session FIFO of due times matches sends to
  frames: rxjs-transcribe re-frames to 100 ms, and the benchmark checks every send is one
  3,200-byte frame, none dropped or resent. Frames due in the window and not sent within
  5 s of its end count as unsent (late by at least that much).
- **CPU**: \`process.cpuUsage\` (user + system, every thread: GC helpers too) over the window,
  as % of one core; the server's from its samples over the same window, with how much of
  the window its event loop was busy (at 100% the server, not the client, sets the pace:
  replies and handshakes wait). *Machine* is every
  process on the machine (\`/proc/stat\`), as % of one core of the ${m.cores * 100}% there is:
  what is neither client nor server is other work on the machine, which makes lateness worse.
- **Memory**: \`process.memoryUsage()\` after three \`gc()\`s, once before any session and once
  right after the window with every session still running; the difference / N.
  \`heapUsed\` is the JS heap; \`arrayBuffers\` (Buffers and typed arrays, outside the JS heap)
  is shown apart. Both include what the benchmark itself keeps per session (its clock
  record, closures), the same for both clients: plain \`ws\` is the floor, harness included.

Run it: \`node scripts/setup.mjs && node bench/concurrency.mjs\` (options: \`--sessions
500,1000\`, \`--seconds N\`, \`--settle N\`, \`--ramp-rate N\`, \`--limit-ms N\`, \`--clients
plain-ws,rxjs-transcribe\`, \`--out DIR\`).

## Results

![p99 frame lateness, client CPU and heap per session against the number of sessions](concurrency.svg)

| N | client | lateness p50 (ms) | p99 (ms) | max (ms) | errors | client CPU (% core) | server CPU (% core) | server event loop busy | machine CPU (% core) | heap / session (KB) | arrayBuffers / session (KB) | every frame sent, no errors |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${d.rows.map(line).join('\n')}

KB are KiB. CPU is of one core: the machine has ${m.cores}.${serverBound.length > 0 ? ` At ${serverBound.join(', ')} the server's event loop was busy for 95% of the window or more: there the reference server (one Node process) was at its limit too, and handshakes and replies waited for it.` : ''}${busiest > 100 * m.cores * 0.9 ? ` At the busiest step the machine was at ${busiest}% of its ${m.cores * 100}%: past that point the client, the server and anything else running wait for a core, and lateness measures the machine as much as the client.` : ''}

## Verdict against the aims

The aims (issue 7): at least ${p.aims.sessions} concurrent real-time sessions with p99 lateness
under ${p.aims.p99Ms} ms, client and server on the same ${m.cores}-core machine, and under
${p.aims.heapPerSessionBytes / 1024} KB of client heap per session.

${verdict.join('\n')}

## What it means

- **CPU per frame is what limits the number of sessions.** A client process is one thread:
  every frame's send, every reply and every collection of garbage runs there. Client CPU per
  frame sent (all threads, over the window)${cpuLine.length > 0 ? `, where both clients kept up: ${cpuLine.join('; ')}` : ': see `clientCpuMicrosPerFrame` in the JSON'}.
  Once the client's event loop is busy all the time (\`clientEventLoopUtilization\` near 1 in
  the JSON), every frame waits for the ones before it and lateness grows by the second.
  Each step runs once: near that point lateness swings from run to run (and with whatever
  else the machine is doing), while CPU per frame is the steadier figure.
- **Garbage collection** in the window, where both kept up: ${both
    .map((o) => {
      const q = plain.find((r) => r.sessions === o.sessions);
      return `${o.sessions} sessions: ${o.clientGc.major} full collections and ${o.clientGc.pausePercent}% of the time in pauses against ${q.clientGc.major} and ${q.clientGc.pausePercent}%`;
    })
    .join('; ')}. Full collections mark every live object, on the main thread and on helper
  threads (whose CPU counts above), and their number grows with the garbage made per frame and
  with how long per-frame objects live: objects that live about a second are promoted and then
  die in the old generation, which keeps V8 marking. That is why a session keeps its frames in
  typed arrays, not in an object per frame (docs/decisions/0010-frame-store.md).
- **Heap per session** at 1,000 sessions or more: rxjs-transcribe ${heapRange(ours)} KB,
  plain \`ws\` ${heapRange(plain)} KB (the socket alone).
- **Audio held per session (arrayBuffers)**: rxjs-transcribe keeps the audio the server has
  not finalised, to resend it after a reconnect (\`maxReplayMs\`, 30 s at most), copied into
  a buffer of each session's own (docs/decisions/0010-frame-store.md). The synthetic engine
  finalises every second, so that is about a second of audio (32,000 bytes at 16 kHz) plus
  the frames awaiting replies, and the buffer has some room to spare; a server that finalises
  only at the end of an utterance makes it the length of the utterance, up to 30 s (960,000
  bytes) per session unless \`maxReplayMs\` is lowered. The buffer shrinks again once such a
  backlog is finalised. Plain \`ws\` keeps nothing to resend, so it shows none.
- For a deployment: size the number of sessions per process by CPU, not memory, and keep the
  speech server off the client's cores when you can; more sessions than one process holds
  need more processes (Node's \`cluster\` or worker threads, one socket set each).
`;
}
