// The soak's numbers: memory trends by linear regression, the checks that
// decide the exit status, and the page and chart in docs/benchmarks/.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRevision, ensureOutDir, fmtMB, MB, median, outDir } from './lib.mjs';
import { lineChart } from './svg.mjs';

/** Least-squares line through `points` ([x, y]): slope, intercept and the slope's standard error. */
export function linearFit(points) {
  const n = points.length;
  if (n < 2) return { slope: 0, intercept: points[0]?.[1] ?? 0, slopeStdErr: null };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  if (sxx === 0) return { slope: 0, intercept: my, slopeStdErr: null };
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const residual = points.reduce((s, [x, y]) => s + (y - (intercept + slope * x)) ** 2, 0);
  const slopeStdErr = n > 2 ? Math.sqrt(residual / (n - 2) / sxx) : null;
  return { slope, intercept, slopeStdErr };
}

/**
 * One memory series (`key` of the samples) over the steady part of the run,
 * from `fromS` (after the warm-up) to `toS` (the sources' end): its slope in
 * KB per minute, and its growth as the median of the last three samples
 * minus the median of the first three (robust to one sample taken mid-fault).
 */
export function trend(samples, key, fromS, toS) {
  const steady = samples.filter((s) => s.t >= fromS && s.t <= toS);
  const fit = linearFit(steady.map((s) => [s.t / 60, s[key] / 1024]));
  // A leak grows as fast late as early; warming up (code, caches) slows down: the later half tells them apart.
  const late = linearFit(steady.slice(Math.floor(steady.length / 2)).map((s) => [s.t / 60, s[key] / 1024]));
  const values = steady.map((s) => s[key]);
  return {
    samples: steady.length,
    windowMinutes: steady.length > 1 ? (steady.at(-1).t - steady[0].t) / 60 : 0,
    slopeKBPerMin: fit.slope,
    slopeStdErrKBPerMin: fit.slopeStdErr,
    lateHalfSlopeKBPerMin: late.slope,
    growthBytes: values.length >= 6 ? median(values.slice(-3)) - median(values.slice(0, 3)) : null,
    startBytes: values[0] ?? null,
    endBytes: values.at(-1) ?? null,
    peakBytes: values.length > 0 ? Math.max(...values) : null,
  };
}

function growthCheck(name, series, boundMB) {
  return {
    name: `${name} growth after warm-up within ${boundMB} MB`,
    ok: series.growthBytes !== null && series.growthBytes <= boundMB * MB,
    detail:
      series.growthBytes === null
        ? 'too few samples after the warm-up'
        : `${(series.growthBytes / MB).toFixed(2)} MB over ${series.windowMinutes.toFixed(2)} min`,
  };
}

function slopeCheck(name, series, boundKBPerMin, minMinutes) {
  const applies = series.windowMinutes >= minMinutes;
  return {
    name: `${name} slope after warm-up within ${boundKBPerMin} KB/min`,
    ok: !applies || series.slopeKBPerMin <= boundKBPerMin,
    detail: `${series.slopeKBPerMin.toFixed(1)} KB/min over ${series.windowMinutes.toFixed(2)} min${
      applies ? '' : ` (not checked: shorter than ${minMinutes} min)`
    }`,
  };
}

/** The pass/fail checks of a soak, each `{ name, ok, detail }`. */
export function checks(data) {
  const { words, memory, bounds } = data;
  const list = [
    {
      name: 'no word lost, doubled or wrong',
      ok: words.lost === 0 && words.doubled === 0 && words.wrong === 0,
      detail: `${words.lost} lost, ${words.doubled} doubled, ${words.wrong} wrong of ${words.expected}`,
    },
    {
      name: 'every session completed',
      ok: data.errors.length === 0 && data.hungSessions === 0,
      detail: `${data.errors.length} errored, ${data.hungSessions} did not complete`,
    },
    {
      name: 'no audio dropped by the overflow policy',
      ok: data.audio.droppedMs === 0,
      detail: `${data.audio.droppedMs} ms dropped (buffer ${bounds.bufferMs} ms per session)`,
    },
    growthCheck('heap', memory.heapUsed, bounds.maxHeapGrowthMB),
    // Audio is in ArrayBuffers, off the JS heap: a leak of audio would show here, not in heapUsed.
    growthCheck('arrayBuffers', memory.arrayBuffers, bounds.maxBufferGrowthMB),
  ];
  // A short run's regression is mostly noise (a sample during a reconnect's refill moves it by
  // megabytes per minute), so the slope bounds apply only to a window long enough to mean something.
  list.push(
    slopeCheck('heap', memory.heapUsed, bounds.maxHeapSlopeKBPerMin, bounds.slopeMinMinutes),
    slopeCheck('arrayBuffers', memory.arrayBuffers, bounds.maxBufferSlopeKBPerMin, bounds.slopeMinMinutes),
  );
  return list;
}

const count = (record) =>
  Object.entries(record)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

function maxGap(data) {
  const t = data.memory.samples.map((s) => s.t);
  return t.slice(1).reduce((most, at, i) => Math.max(most, at - t[i]), 0);
}

/** A resource count over the steady part of the run: first, last and most. */
function alive(data, key) {
  const steady = data.memory.samples.filter((s) => s.t >= data.params.warmupS && s.t <= data.durationS);
  const values = steady.map((s) => s[key]).filter((v) => v !== undefined);
  if (values.length === 0) return 'n/a';
  return `${values[0]} to ${values.at(-1)} (most ${Math.max(...values)})`;
}

/** The markdown page. */
export function soakPage(data) {
  const { params, words, memory, faults } = data;
  const heap = memory.heapUsed;
  const kb = (bytes) => (bytes / 1024).toFixed(0);
  const lines = [
    '# Soak: a long stream with faults on a schedule',
    '',
    `Latest run: ${data.date.slice(0, 10)}, ${data.machine.cpu} (${data.machine.cores} cores), Node ${data.machine.node}, ${describeRevision(data.revision)}.`,
    `Command: \`npm run soak -- ${data.command}\`. **${data.ok ? 'Passed' : 'FAILED'}.**`,
    '',
    '![Memory of the client process over the run, faults marked](soak.svg)',
    '',
    '## Method',
    '',
    `- **Server**: the reference server with the synthetic engine, in a process of its own, behind the TCP fault proxy of the specs (\`spec/helpers/fault-proxy.ts\`, loaded through esbuild).`,
    `- **Client**: a Node process of its own (\`--expose-gc\`), running ${params.sessions} sessions at once, each \`liveNoise(...).pipe(transcribe({ url, deadAfterMs: ${params.deadAfterMs}, maxBufferMs: ${params.bufferMs}${typeof params.maxReplayMs === 'number' ? `, maxReplayMs: ${params.maxReplayMs}` : ''} }))\`: deterministic noise (different per session) pushed in 100 ms chunks on a timer at ${params.speed}x real time, a source that cannot wait, as a microphone. Reconnect options are the defaults (8 retries counted from zero again at each open, 250 ms to 10 s, full jitter).`,
    params.faults.length === 0
      ? '- **Faults**: none: a baseline.'
      : `- **Faults**: every ${params.faultEvery} s the next of ${params.faults.map((k) => `\`${k}\``).join(', ')}, in a cycle${params.endFault ? ', and the next one 20 ms before the sources end, so that the end of the stream (end-of-stream sent, the final awaited) meets a fault too' : ''}. \`reset\`: the proxy resets (RST) every open connection. \`stall\`: it forwards nothing more on them and closes nothing, so only the client's dead-connection check (\`deadAfterMs\`, ${params.deadAfterMs} ms here instead of the default 10 s, to keep the outage within the buffer) can find them. \`server-kill\`: SIGKILL of the server process (connections drop with no close frame), and a new one on the same port. \`server-restart\`: the server is stopped gracefully (its sessions closed with 1001) and started again on the same port.`,
    `- **Words**: the synthetic engine names each second of audio by the SHA-256 of its samples; the client computes the same word as it generates each second and checks every final as it arrives: word *i* must be second *i*'s word, from *i* s to *i* + 1 s. Lost: seconds never heard; doubled: a second heard again; wrong: other text or times. This is the fault-free transcript, without holding it.`,
    `- **Memory**: \`heapUsed\`, RSS and \`arrayBuffers\` of the client process after a full collection (\`gc()\` twice: the second finishes freeing the ArrayBuffers the first found dead), every ${params.sampleEveryS} s. The trend is a least-squares line over the samples after a ${params.warmupS} s warm-up until the sources end; growth is the median of the last three such samples minus the median of the first three.`,
    `- After ${params.minutes} min the sources end at a whole second and the sessions complete (end-of-stream, final, close 1000).`,
    '',
    '## Results',
    '',
    '| | |',
    '| --- | --- |',
    `| run | ${(data.durationS / 60).toFixed(2)} min streaming, ${data.drainS.toFixed(1)} s to complete |`,
    `| audio streamed | ${data.audioSeconds} s (${params.sessions} sessions; the pacing asked for ${data.scheduledAudioSeconds ?? 'n/a'} s) |`,
    `| faults injected | ${faults.injected}: ${count(faults.byKind)} |`,
    `| connections broken by faults | ${faults.connectionsHit} |`,
    `| server down per restart | ${faults.downMs.length > 0 ? `median ${median(faults.downMs)} ms, max ${Math.max(...faults.downMs)} ms` : 'n/a'} |`,
    `| reconnects (connections opened after the first) | ${data.reconnects} |`,
    `| failed connections and attempts, by error | ${count(data.connectionFailures)} |`,
    `| words | ${words.expected} expected: ${words.ok} right, **${words.lost} lost, ${words.doubled} doubled, ${words.wrong} wrong** |`,
    `| sessions that errored or did not complete | ${data.errors.length + data.hungSessions} |`,
    `| audio resent after reconnects | ${(data.audio.replayedMs / 1000).toFixed(1)} s |`,
    `| audio dropped (overflow) | ${data.audio.droppedMs} ms; most buffered in a session ${(data.audio.peakBufferedMs / 1000).toFixed(1)} s |`,
    `| unfinalised audio dropped from the replay buffer (\`maxReplayMs\`) | ${data.audio.replayDroppedMs} ms |`,
    `| heap after warm-up | ${fmtMB(heap.startBytes)} MB to ${fmtMB(heap.endBytes)} MB, peak ${fmtMB(heap.peakBytes)} MB |`,
    `| heap slope | **${heap.slopeKBPerMin.toFixed(1)} KB/min**${heap.slopeStdErrKBPerMin !== null ? ` (± ${heap.slopeStdErrKBPerMin.toFixed(1)} standard error)` : ''} over ${heap.windowMinutes.toFixed(2)} min; ${heap.lateHalfSlopeKBPerMin.toFixed(1)} KB/min over its later half |`,
    `| RSS | ${fmtMB(memory.rss.startBytes)} MB to ${fmtMB(memory.rss.endBytes)} MB, slope ${memory.rss.slopeKBPerMin.toFixed(0)} KB/min (${memory.rss.lateHalfSlopeKBPerMin.toFixed(0)} KB/min over the later half) |`,
    `| arrayBuffers (the audio) | ${fmtMB(memory.arrayBuffers.startBytes)} MB to ${fmtMB(memory.arrayBuffers.endBytes)} MB, peak ${fmtMB(memory.arrayBuffers.peakBytes)} MB, slope ${memory.arrayBuffers.slopeKBPerMin.toFixed(1)} KB/min |`,
    `| longest gap between memory samples (a stalled process or machine) | ${maxGap(data).toFixed(1)} s, sampling every ${params.sampleEveryS} s |`,
    `| sockets and timers alive in the client, after the warm-up | sockets ${alive(data, 'sockets')}; timers ${alive(data, 'timers')} |`,
    `| heap after the sessions ended, over the baseline before they started | ${kb(memory.afterEnd.heapUsed - memory.baseline.heapUsed)} KB |`,
    '',
    '## Checks',
    '',
    ...data.checks.map((c) => `- ${c.ok ? 'pass' : '**FAIL**'}: ${c.name}: ${c.detail}`),
    '',
    '## What it means',
    '',
    ...data.meaning,
    '',
    `Raw data: [soak.json](soak.json). Short form in CI: \`spec/bench/soak.spec.ts\`.`,
    '',
  ];
  return lines.join('\n');
}

const FAULT_COLORS = {
  reset: '#d62728',
  stall: '#ff7f0e',
  'server-kill': '#9467bd',
  'server-restart': '#2ca02c',
};

/** The chart: heap and arrayBuffers, and RSS, over the run in minutes, faults as vertical lines. */
export function soakChart(data) {
  const samples = data.memory.samples;
  const at = (key) => samples.map((s) => [s.t / 60, s[key] / MB]);
  // Hundreds of faults in a long run: fainter lines, so the series stay readable.
  const opacity = data.faults.list.length > 100 ? 0.25 : 0.6;
  const markers = data.faults.list.map((f) => ({
    x: f.atS / 60,
    color: FAULT_COLORS[f.kind] ?? '#999',
    opacity,
  }));
  const faultLegend = data.params.faults.map((kind) => ({
    name: kind.replace('server-', ''),
    color: FAULT_COLORS[kind] ?? '#999',
    width: 1,
  }));
  return lineChart({
    title: `Soak: ${data.params.sessions} sessions at ${data.params.speed}x, a fault every ${data.params.faultEvery} s`,
    subtitle: `client process memory after gc(), faults as vertical lines; heap slope ${data.memory.heapUsed.slopeKBPerMin.toFixed(1)} KB/min after the warm-up; ${data.words.lost + data.words.doubled + data.words.wrong} words lost, doubled or wrong`,
    xLabel: 'minutes',
    legend: [
      { name: 'heapUsed', color: '#1f77b4', width: 2 },
      { name: 'arrayBuffers', color: '#8c564b', width: 2, dash: '6 4' },
      { name: 'rss', color: '#444', width: 2 },
      ...faultLegend,
    ],
    markers,
    panels: [
      {
        title: 'JS heap and Buffer memory (MB)',
        yLabel: 'MB',
        series: [
          { name: 'heapUsed', color: '#1f77b4', points: at('heapUsed') },
          { name: 'arrayBuffers', color: '#8c564b', dash: '6 4', points: at('arrayBuffers') },
        ],
      },
      {
        title: 'Resident set size (MB)',
        yLabel: 'MB',
        series: [{ name: 'rss', color: '#444', points: at('rss') }],
      },
    ],
  });
}

/** What the numbers say, in a few sentences for the page. */
export function meaning(d) {
  const heapTrend = d.memory.heapUsed;
  const failed = d.checks.filter((c) => !c.ok);
  const lines = [];
  if (d.words.lost + d.words.doubled + d.words.wrong === 0 && d.errors.length === 0 && d.hungSessions === 0) {
    lines.push(
      d.faults.injected === 0
        ? 'With no faults, every transcript was the expected one word for word, with the same times.'
        : `Through ${d.faults.injected} faults that broke ${d.faults.connectionsHit} connections, every session reconnected (${d.reconnects} reconnects) and its transcript was the fault-free one word for word, with the same times: resending the unfinalised audio and dropping finals already emitted hold for resets, stalls found only by the dead-connection check, and servers that crash or restart. Audio pushed during the outages waited in the session's buffer (at most ${(d.audio.peakBufferedMs / 1000).toFixed(1)} s of audio) and none was dropped. Each session went through about ${Math.round(d.reconnects / d.params.sessions)} reconnects on the default budget of 8 retries because the budget counts failed attempts in a row and starts again at each connection that opens.`,
    );
  } else {
    lines.push(
      `Words were lost, doubled or wrong, or sessions failed: see the checks above and \`sessions[].problems\` in soak.json for the first of them.`,
    );
  }
  if (d.audioSeconds < 0.97 * d.scheduledAudioSeconds) {
    lines.push(
      '',
      `The client fell behind its pacing: it streamed ${d.audioSeconds} s of audio where ${d.scheduledAudioSeconds} s were due (the machine was too busy for ${d.params.sessions} sessions at ${d.params.speed}x).`,
    );
  }
  const hour = (heapTrend.slopeKBPerMin * 60) / 1024;
  lines.push(
    '',
    `Memory: the heap's trend after the warm-up is ${heapTrend.slopeKBPerMin.toFixed(1)} KB/min${
      heapTrend.slopeStdErrKBPerMin !== null ? ` (± ${heapTrend.slopeStdErrKBPerMin.toFixed(1)})` : ''
    }, ${hour.toFixed(1)} MB an hour if it went on. ${
      heapTrend.windowMinutes < d.bounds.slopeMinMinutes
        ? `Over a window of ${heapTrend.windowMinutes.toFixed(1)} min that is mostly noise (a sample taken while a buffer refills after an outage moves it); the growth bounds are what this run checks, and a run of ${d.bounds.slopeMinMinutes} min or more checks the slopes.`
        : 'The sessions hold a bounded amount (a window of audio in flight, the unfinalised audio, the buffer during outages), so a sound run shows no trend beyond noise.'
    } The audio itself (\`arrayBuffers\`) rises during each outage, as the buffer holds what arrives, and falls back once it is sent: ${d.memory.arrayBuffers.slopeKBPerMin.toFixed(1)} KB/min overall.`,
    '',
    `RSS is not bounded by the checks: it counts what V8 and the allocator keep reserved, which grows in steps while the process warms up${
      d.memory.rss.windowMinutes < d.bounds.slopeMinMinutes
        ? '; this run is too short to show more'
        : d.memory.rss.lateHalfSlopeKBPerMin <= Math.max(128, d.memory.rss.slopeKBPerMin / 2)
          ? ' and then levels off'
          : '; here it was still rising over the later half, which a longer run would tell more about'
    } (${d.memory.rss.slopeKBPerMin.toFixed(0)} KB/min over the run, ${d.memory.rss.lateHalfSlopeKBPerMin.toFixed(0)} KB/min over its later half); the heap and the Buffers are what the library holds.`,
  );
  if (failed.length > 0) lines.push('', `Failed: ${failed.map((c) => c.name).join('; ')}.`);
  return lines;
}

/** JSON with two spaces, but the long lists (memory samples, faults) one entry a line. */
function compactJson(data) {
  const lists = { samples: data.memory.samples, faults: data.faults.list };
  const text = JSON.stringify(
    {
      ...data,
      memory: { ...data.memory, samples: '@samples' },
      faults: { ...data.faults, list: '@faults' },
    },
    null,
    2,
  );
  const oneALine = (entries, indent) =>
    entries.length === 0
      ? '[]'
      : `[\n${entries.map((e) => `${indent}  ${JSON.stringify(e)}`).join(',\n')}\n${indent}]`;
  return `${text
    .replace('"@samples"', () => oneALine(lists.samples, '    '))
    .replace('"@faults"', () => oneALine(lists.faults, '    '))}\n`;
}

/** Decides the checks and writes soak.json, soak.md and soak.svg to the output directory. */
export function writeResults(data) {
  data.checks = checks(data);
  data.ok = data.checks.every((c) => c.ok);
  data.meaning = meaning(data);
  ensureOutDir();
  writeFileSync(join(outDir, 'soak.json'), compactJson(data));
  writeFileSync(join(outDir, 'soak.md'), soakPage(data));
  writeFileSync(join(outDir, 'soak.svg'), soakChart(data));
}
