// One step of the concurrency benchmark: N real-time sessions of one client
// kind in this process (so steps do not pollute each other), against a
// reference server given by URL. Prints one JSON report on stdout.
//
//   node --expose-gc bench/concurrency-client.mjs --kind plain-ws|rxjs-transcribe
//     --sessions N --url ws://... [--seconds 10] [--settle 2] [--ramp-rate 500] [--drain 5] [--open-timeout 30]
//     [--dump FILE.csv] [--transcribe-options JSON]
//
// Every session gets its own real-time source from one shared clock
// (concurrency-source.mjs), phases spread evenly over the 100 ms period.
// Sessions are opened at --ramp-rate per second, then the run settles, then
// the window is measured: lateness of every frame due in it (when the client
// called the socket's send minus when the frame was due), CPU and event-loop
// use over it; then heap after a full GC with the sessions still running,
// against a baseline taken before any session existed.
import { readFileSync, writeFileSync } from 'node:fs';
import { constants, PerformanceObserver, performance } from 'node:perf_hooks';
import { Observable } from 'rxjs';
import { WebSocket } from 'ws';
import { PCM16_16K_MONO, transcribe } from '../dist/esm/index.js';
// The default Node socket factory is not exported by the package: wrapped from its module.
import { nodeSocketFactory } from '../dist/esm/transport/node-socket.js';
import {
  FRAME_BYTES,
  FRAME_MS,
  FrameClock,
  LatenessRecorder,
  latencySummary,
  noiseFrames,
} from './concurrency-source.mjs';
import { CONFIG_MESSAGE, option, textOption } from './lib.mjs';

const kind = textOption('kind');
const sessions = option('sessions', undefined);
const url = textOption('url');
const seconds = option('seconds', 10);
const settleMs = option('settle', 2) * 1000;
const rampRate = option('ramp-rate', 500);
const drainMs = option('drain', 5) * 1000;
const openTimeoutMs = option('open-timeout', 30) * 1000;
/** Extra options of transcribe() as JSON, to try other settings (the benchmark itself uses the defaults). */
const transcribeOptions = JSON.parse(textOption('transcribe-options') ?? '{}');
if (!['plain-ws', 'rxjs-transcribe'].includes(kind) || !Number.isInteger(sessions) || url === undefined) {
  process.stderr.write(
    'usage: node --expose-gc bench/concurrency-client.mjs --kind plain-ws|rxjs-transcribe --sessions N --url URL\n',
  );
  process.exit(2);
}
if (typeof globalThis.gc !== 'function') {
  process.stderr.write('concurrency-client: run with --expose-gc (heap is measured after a full GC)\n');
  process.exit(2);
}

// --- what exists before any session: the baseline ------------------------

const NOISE_FRAMES = 100;
const noise = noiseFrames(NOISE_FRAMES);
const plainFrames = Array.from({ length: NOISE_FRAMES }, (_, k) =>
  Buffer.from(noise, k * FRAME_BYTES, FRAME_BYTES),
);
const chunks = Array.from({ length: NOISE_FRAMES }, (_, k) => ({
  format: PCM16_16K_MONO,
  samples: new Int16Array(noise, k * FRAME_BYTES, FRAME_BYTES / 2),
}));
// Room for every frame of the window, with slack for the catch-up of a late tick.
const recorder = new LatenessRecorder(sessions, Math.ceil(sessions * ((seconds * 1000) / FRAME_MS + 2)));
const emitLate = new Float64Array(recorder.lateness.length);
let emitLateCount = 0;
const clock = new FrameClock(FRAME_MS);
clock.emitLateness = (ms, due) => {
  if (due >= recorder.windowStart && due < recorder.windowEnd && emitLateCount < emitLate.length) {
    emitLate[emitLateCount++] = ms;
  }
};
const tally = {
  opened: 0,
  errors: 0,
  firstErrors: [],
  completes: 0,
  finals: 0,
  partials: 0,
  replies: 0,
  closed: 0,
  misaligned: 0,
};
const closers = [];
const operators = [];
let stopping = false;

function error(message) {
  if (stopping) return;
  tally.errors += 1;
  if (tally.firstErrors.length < 5) tally.firstErrors.push(message);
}

// Garbage collection inside the window: pauses (ms) and how many were full (mark-compact) ones.
const gcInWindow = { ms: 0, major: 0, minor: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.startTime < recorder.windowStart || entry.startTime >= recorder.windowEnd) continue;
    gcInWindow.ms += entry.duration;
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcInWindow.major += 1;
    else gcInWindow.minor += 1;
  }
}).observe({ entryTypes: ['gc'] });

const settle = (n = 2) => {
  for (let i = 0; i < n; i++) globalThis.gc();
};
settle(3);
const baseline = process.memoryUsage();

// --- the sessions ---------------------------------------------------------

const phaseOf = (i) => (i * FRAME_MS) / sessions;

/** A plain `ws` client: config at open, each frame sent as its source emits it (held until open). */
function openPlain(i) {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  let backlog = [];
  const sendFrame = (k) => {
    recorder.sent(i);
    socket.send(plainFrames[k % NOISE_FRAMES]);
  };
  socket.on('open', () => {
    tally.opened += 1;
    socket.send(CONFIG_MESSAGE);
    for (const k of backlog) sendFrame(k);
    backlog = undefined;
  });
  socket.on('message', (data) => {
    tally.replies += 1;
    // A client has to read the transcript: every reply is parsed, as the library does.
    const reply = JSON.parse(data.toString());
    if (typeof reply.text === 'string') tally.finals += 1;
  });
  socket.on('error', (e) => error(`plain-ws: ${e.message}`));
  socket.on('close', (code) => {
    tally.closed += 1;
    if (!stopping) error(`plain-ws: closed with ${code}`);
  });
  const record = clock.add(phaseOf(i), (k, due) => {
    recorder.emitted(i, due);
    if (backlog === undefined) sendFrame(k);
    else backlog.push(k);
  });
  closers.push(() => {
    clock.remove(record);
    socket.close(1000);
  });
}

/**
 * The library's Node driver with its sends timed. A class, as the library's own drivers are:
 * an object literal with a getter per session would make the per-frame `bufferedAmount`
 * read megamorphic, a cost of the harness, not of the library.
 */
class TimedDriver {
  constructor(session, driver) {
    this.session = session;
    this.driver = driver;
  }
  send(data, onSent) {
    if (typeof data !== 'string') {
      if (data.byteLength !== FRAME_BYTES) tally.misaligned += 1;
      recorder.sent(this.session);
    }
    this.driver.send(data, onSent);
  }
  get bufferedAmount() {
    return this.driver.bufferedAmount;
  }
  close(code, reason) {
    this.driver.close(code, reason);
  }
  terminate() {
    this.driver.terminate();
  }
  batch(sends) {
    this.driver.batch(sends);
  }
}

/** rxjs-transcribe: the same source as an Observable of chunks, through transcribe() with default options. */
function openOurs(i) {
  const source$ = new Observable((subscriber) => {
    const record = clock.add(phaseOf(i), (k, due) => {
      recorder.emitted(i, due);
      subscriber.next(chunks[k % NOISE_FRAMES]);
    });
    return () => clock.remove(record);
  });
  // The library's own Node socket, its send timed: the moment the frame is handed to `ws`.
  const socketFactory = (address, options, handlers) =>
    new TimedDriver(
      i,
      nodeSocketFactory(address, options, {
        ...handlers,
        open() {
          tally.opened += 1;
          handlers.open();
        },
      }),
    );
  const operator = transcribe({ ...transcribeOptions, url, socketFactory });
  operators.push(operator);
  const subscription = source$.pipe(operator).subscribe({
    next: (event) => {
      if (event.type === 'final') tally.finals += 1;
      else tally.partials += 1;
    },
    error: (e) => {
      tally.closed += 1;
      error(`rxjs-transcribe: ${e.message}`);
    },
    complete: () => {
      tally.completes += 1;
      if (!stopping) error('rxjs-transcribe: completed before the end of the audio');
    },
  });
  closers.push(() => {
    subscription.unsubscribe();
    tally.closed += 1;
  });
}

const open = kind === 'plain-ws' ? openPlain : openOurs;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const waitUntil = (at) => wait(Math.max(0, at - performance.now()));

clock.start();
const rampStart = performance.now();
await new Promise((resolve) => {
  let next = 0;
  const timer = setInterval(() => {
    // Opened on schedule, not all at once: the handshake storm is not what is measured.
    const due = Math.min(sessions, Math.ceil(((performance.now() - rampStart) / 1000) * rampRate));
    for (; next < due; next++) open(next);
    if (next === sessions) {
      clearInterval(timer);
      resolve();
    }
  }, 10);
});
const rampMs = performance.now() - rampStart;
// Handshakes may lag the ramp when the server is busy (a full accept queue retries SYNs
// after 1, 3, 7 s): the window is of sessions all open, so wait for them, up to --open-timeout.
while (tally.opened < sessions && tally.errors === 0 && performance.now() - rampStart < openTimeoutMs) {
  await wait(20);
}
const allOpenMs = tally.opened === sessions ? performance.now() - rampStart : null;
recorder.windowStart = performance.now() + settleMs;
recorder.windowEnd = recorder.windowStart + seconds * 1000;

await waitUntil(recorder.windowStart);
const openedAtWindowStart = tally.opened;
const errorsBeforeWindow = tally.errors;
const machine0 = machineBusyMs();
const cpu0 = process.cpuUsage();
const elu0 = performance.eventLoopUtilization();
const t0 = performance.now();
await waitUntil(recorder.windowEnd);
const cpu = process.cpuUsage(cpu0);
const machine1 = machineBusyMs();
const elu = performance.eventLoopUtilization(elu0);
const t1 = performance.now();

// Frames due in the window may still be on their way (or not yet emitted): wait for them, up to --drain.
const drainStart = performance.now();
while (
  (clock.emittedUpTo < recorder.windowEnd || recorder.unsent() > 0) &&
  performance.now() - drainStart < drainMs
) {
  await wait(20);
}
const unsent = recorder.unsent();
const givenUpAt = performance.now();

// Flow stats of our sessions (drops or resends would break the 1:1 frame matching).
const flow = { droppedMs: 0, reconnects: 0, replayedMs: 0, peakBufferedMs: 0 };
for (const operator of operators) {
  const stats = operator.stats();
  if (stats === undefined) continue;
  flow.droppedMs += stats.droppedMs;
  flow.reconnects += stats.reconnects;
  flow.replayedMs += stats.replayedMs;
  flow.peakBufferedMs = Math.max(flow.peakBufferedMs, stats.peakBufferedMs);
}

settle(3);
const loaded = process.memoryUsage();
stopping = true;
clock.stop();
for (const close of closers) close();
const closeStart = performance.now();
while (tally.closed < sessions && performance.now() - closeStart < 3000) await wait(20);

const windowMs = t1 - t0;
const dump = textOption('dump');
if (dump !== undefined) {
  // Every frame of the window, for a closer look: session, due (ms from the window's start), lateness.
  const lines = ['session,dueMs,latenessMs'];
  for (let j = 0; j < recorder.count; j++) {
    lines.push(
      `${recorder.sessionOf[j]},${(recorder.dueOf[j] - recorder.windowStart).toFixed(2)},${recorder.lateness[j].toFixed(2)}`,
    );
  }
  writeFileSync(dump, `${lines.join('\n')}\n`);
}
const lateness = recorder.lateness.subarray(0, recorder.count);
const report = {
  ok: true,
  kind,
  sessions,
  seconds,
  rampMs: Math.round(rampMs),
  allOpenMs: allOpenMs === null ? null : Math.round(allOpenMs),
  openedAtWindowStart,
  // Epoch times of the window, to cut the server's CPU samples at.
  windowEpochMs: [performance.timeOrigin + t0, performance.timeOrigin + t1],
  windowMs: Math.round(windowMs),
  // An unsent frame counts as late by at least the time from the window's end to giving up.
  lateness: latencySummary(lateness, unsent, givenUpAt - recorder.windowEnd),
  sourceLateness: latencySummary(emitLate.subarray(0, emitLateCount)),
  framesDue: recorder.count + unsent,
  framesSent: recorder.count,
  unsent,
  sessionsShort: recorder.sessionsShort(),
  ringOverflows: recorder.overflows,
  unmatchedSends: recorder.unmatched,
  misaligned: tally.misaligned,
  errors: tally.errors,
  errorsBeforeWindow,
  firstErrors: tally.firstErrors,
  finals: tally.finals,
  partials: tally.partials,
  replies: kind === 'plain-ws' ? tally.replies : null,
  ...(kind === 'rxjs-transcribe' ? { flow } : {}),
  cpuPercent: ((cpu.user + cpu.system) / 1000 / windowMs) * 100,
  cpuUserPercent: (cpu.user / 1000 / windowMs) * 100,
  eventLoopUtilization: elu.utilization,
  gcPercent: (gcInWindow.ms / windowMs) * 100,
  gcMajor: gcInWindow.major,
  gcMinor: gcInWindow.minor,
  // Every process on the machine (Linux), as % of one core: what is not client or server is someone else's.
  machineCpuPercent:
    machine0 === undefined || machine1 === undefined ? null : ((machine1 - machine0) / windowMs) * 100,
  memory: {
    baseline: pick(baseline),
    loaded: pick(loaded),
    heapPerSession: (loaded.heapUsed - baseline.heapUsed) / sessions,
    arrayBuffersPerSession: (loaded.arrayBuffers - baseline.arrayBuffers) / sessions,
    externalPerSession: (loaded.external - baseline.external) / sessions,
    rssPerSession: (loaded.rss - baseline.rss) / sessions,
  },
};
process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));

/** CPU time all cores spent busy since boot, in ms, from /proc/stat (undefined elsewhere). */
function machineBusyMs() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const busy = fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
    return (busy * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

function pick({ heapUsed, heapTotal, arrayBuffers, external, rss }) {
  return { heapUsed, heapTotal, arrayBuffers, external, rss };
}
