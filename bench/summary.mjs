// The headline figures of every benchmark, read from the JSON files they
// write: one place for the table `npm run bench` prints and for the index
// page docs/benchmarks/README.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeRevision, MB, outDir } from './lib.mjs';

const fixed = (v, digits = 2) => (v === null || v === undefined ? 'n/a' : v.toFixed(digits));
const mb = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : `${(bytes / MB).toFixed(1)} MB`);
const kb = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : `${(bytes / 1024).toFixed(1)} KB`);

/**
 * Each benchmark: its page, the command that reruns it, and `rows(data)`,
 * its headline figures as `{ measure, ours, floor, ratio, aim, met }`
 * (strings; `met` true, false or null when there is no aim).
 */
export const BENCHMARKS = [
  {
    name: 'cost',
    title: 'Cost per audio hour',
    command: 'npm run bench:cost',
    rows(d) {
      const ours = d.summary['rxjs-transcribe'];
      const plain = d.summary['plain-ws'];
      // A run of other protocols' clients only (--clients): their rows alone.
      if (ours === undefined || plain === undefined)
        return [...deepgramCostRows(d.deepgram), ...openaiCostRows(d.openai)];
      const peers = Object.entries(d.summary)
        .filter(([name]) => name !== 'rxjs-transcribe' && name !== 'plain-ws')
        .map(([name, s]) => `${name} ${fixed(s.cpuRatio)}x`)
        .join(', ');
      return [
        {
          measure: `CPU s per audio hour, warm (${peers})`,
          ours: fixed(ours.cpuSecondsPerAudioHour),
          floor: `${fixed(plain.cpuSecondsPerAudioHour)} (plain ws)`,
          ratio: fixed(ours.cpuRatio),
          aim: '≤ 1.15',
          met: ours.cpuRatio === null ? false : ours.cpuRatio <= 1.15,
        },
        {
          measure: 'wall s per audio hour, warm',
          ours: fixed(ours.wallSecondsPerAudioHour),
          floor: `${fixed(plain.wallSecondsPerAudioHour)} (plain ws)`,
          ratio: fixed(ours.wallRatio),
          aim: '≤ 1.15',
          met: ours.wallRatio === null ? false : ours.wallRatio <= 1.15,
        },
        {
          measure: 'CPU s per audio hour, cold process',
          ours: fixed(ours.cold.cpuSecondsPerAudioHour),
          floor: `${fixed(plain.cold.cpuSecondsPerAudioHour)} (plain ws)`,
          ratio: fixed(ours.cold.cpuRatio),
          aim: '',
          met: null,
        },
        ...deepgramCostRows(d.deepgram),
        ...openaiCostRows(d.openai),
      ];
    },
  },
  {
    name: 'long-streams',
    title: 'Long streams',
    command: 'npm run bench:long-streams',
    rows: (d) =>
      d.results.map((r) => ({
        measure: `${r.short ?? r.title}: heap slope per audio hour; stack depth`,
        ours: `${kb(r.heapSummary?.slopeBytesPerAudioHour)}; ${r.stack?.send.min}–${r.stack?.send.max} frames`,
        floor: '',
        ratio: '',
        aim: `flat; words all right`,
        met: r.ok,
      })),
  },
  {
    name: 'concurrency',
    title: 'Concurrency',
    command: 'npm run bench:concurrency',
    rows(d) {
      const aims = d.params.aims;
      const step = (client) => d.rows.find((r) => r.client === client && r.sessions === aims.sessions);
      const ours = step('rxjs-transcribe');
      const plain = step('plain-ws');
      const p99 = (row) => (row?.lateness?.p99 === undefined ? 'n/a' : `${fixed(row.lateness.p99, 1)} ms`);
      const most = (client) => d.summary[client]?.maxSessionsWithinP99Aim ?? 'none';
      return [
        {
          measure: `p99 frame lateness at ${aims.sessions} real-time sessions`,
          ours: p99(ours),
          floor: `${p99(plain)} (plain ws)`,
          ratio: '',
          aim: `< ${aims.p99Ms} ms`,
          met: ours?.lateness?.p99 !== undefined && ours.lateness.p99 < aims.p99Ms && ours.errors === 0,
        },
        {
          measure: `most sessions with p99 under ${aims.p99Ms} ms`,
          ours: String(most('rxjs-transcribe')),
          floor: `${most('plain-ws')} (plain ws)`,
          ratio: '',
          aim: `≥ ${aims.sessions}`,
          met: Number(most('rxjs-transcribe')) >= aims.sessions,
        },
        {
          measure: `client heap per session at ${aims.sessions} sessions`,
          ours: kb(ours?.heapPerSessionBytes),
          floor: `${kb(plain?.heapPerSessionBytes)} (plain ws)`,
          ratio: '',
          aim: `< ${kb(aims.heapPerSessionBytes)}`,
          met: ours?.heapPerSessionBytes !== undefined && ours.heapPerSessionBytes < aims.heapPerSessionBytes,
        },
      ];
    },
  },
  {
    name: 'soak',
    title: 'Soak',
    command: 'npm run soak -- --minutes N',
    rows: (d) => [
      {
        measure: `${fixed(d.params.minutes, 1)} min, ${d.audioSeconds} s of audio, ${d.faults.injected} faults: words lost / doubled / wrong; errors`,
        ours: `${d.words.lost} / ${d.words.doubled} / ${d.words.wrong}; ${d.errors.length}`,
        floor: '',
        ratio: '',
        aim: '0; 0',
        met: d.words.lost + d.words.doubled + d.words.wrong === 0 && d.errors.length === 0,
      },
      {
        measure: 'heap slope after warm-up; reconnects',
        ours: `${fixed(d.memory.heapUsed.slopeKBPerMin ?? null, 1)} KB/min; ${d.reconnects}`,
        floor: '',
        ratio: '',
        aim: 'flat',
        met: d.ok,
      },
    ],
  },
  {
    name: 'deepgram-reconnect',
    title: 'Deepgram through resets',
    command: 'npm run bench:deepgram-reconnect',
    rows(d) {
      const by = (name) => d.results.find((r) => r.name === name);
      const ours = by('rxjs-transcribe');
      const sdk = by('deepgram-sdk');
      const queued = by('deepgram-sdk-queued');
      if (ours === undefined) return [];
      const words = (r) => `${r.words.lost} / ${r.words.doubled} / ${r.words.cutElsewhere + r.words.unknown}`;
      const peers = (f) =>
        [sdk && `${f(sdk)} (SDK)`, queued && `${f(queued)} (SDK, queued)`].filter(Boolean).join('; ');
      const timeline = (r) =>
        r.timeline.one
          ? 'yes'
          : `no (${r.timeline.offTimeline} of ${r.timeline.onTimeline + r.timeline.offTimeline} words at the wrong time)`;
      return [
        {
          measure: `${d.params.audioSeconds} s at ${d.params.pace}x, ${ours.resets} resets: words lost / doubled / wrong`,
          ours: words(ours),
          floor: peers(words),
          ratio: '',
          aim: '0 / 0 / 0',
          met:
            ours.ok &&
            ours.words.lost + ours.words.doubled + ours.words.cutElsewhere + ours.words.unknown === 0,
        },
        {
          measure: 'audio in no final (s); final times on one timeline',
          ours: `${fixed(ours.audio.neverTranscribedMs / 1000, 1)}; ${timeline(ours)}`,
          floor: peers((r) => `${fixed(r.audio.neverTranscribedMs / 1000, 1)}; ${timeline(r)}`),
          ratio: '',
          aim: '0; yes',
          met: ours.audio.neverTranscribedMs === 0 && ours.timeline.one,
        },
        {
          measure: "peak audio held while disconnected (ours: the operator's metrics; paced()'s queue apart)",
          ours: `${kb(ours.memory.peakHeldWhileDisconnectedBytes)}${
            ours.memory.peakPacedQueueBytes ? ` (+ ${kb(ours.memory.peakPacedQueueBytes)} in paced())` : ''
          }`,
          floor: peers((r) => kb(r.memory.peakHeldWhileDisconnectedBytes)),
          ratio: '',
          aim: 'bounded',
          met: null,
        },
      ];
    },
  },
  {
    name: 'assemblyai-reconnect',
    title: 'AssemblyAI through resets',
    command: 'npm run bench:assemblyai-reconnect',
    rows: (d) => providerReconnectRows(d, 'assemblyai'),
  },
  {
    name: 'openai-reconnect',
    title: 'OpenAI Realtime through resets',
    command: 'npm run bench:openai-reconnect',
    rows: (d) => providerReconnectRows(d, 'openai'),
  },
  {
    name: 'slow-consumer',
    title: 'Slow consumer',
    command: 'npm run bench:slow-consumer',
    rows(d) {
      const ours = d.clients.find((c) => c.name === 'rxjs-transcribe');
      const plain = d.clients.find((c) => c.name === 'plain-ws');
      return [
        {
          measure: `peak RSS, ${d.params.audioSeconds} s of audio into a ${d.params.factor}x server`,
          ours: mb(ours?.peakRssBytes),
          floor: `${mb(plain?.peakRssBytes)} (plain ws)`,
          ratio: ours && plain ? fixed(ours.peakRssBytes / plain.peakRssBytes) : 'n/a',
          aim: 'bounded',
          met: d.clients.every((c) => c.allRepliesArrived),
        },
      ];
    },
  },
  {
    name: 'doors',
    title: 'Doors without RxJS',
    command: 'npm run bench:doors',
    rows(d) {
      const base = d.clients.find((c) => c.name === 'observable');
      const peer = d.clients.find((c) => c.name === 'assemblyai-stream-pattern');
      return ['transcription-stream', 'async-iterator'].map((name) => {
        const door = d.clients.find((c) => c.name === name);
        return {
          measure: `${name}: peak RSS, ${d.params.audioSeconds} s into a ${d.params.factor}x server (peer: AssemblyAI stream() pattern)`,
          ours: mb(door?.peakRssBytes),
          floor: `${mb(base?.peakRssBytes)} (Observable); ${mb(peer?.peakRssBytes)} (peer)`,
          ratio: door && base ? fixed(door.peakRssBytes / base.peakRssBytes) : 'n/a',
          aim: 'flat; ≤ 1.1x the Observable',
          met: door?.ok === true && base !== undefined && door.peakRssBytes <= base.peakRssBytes * 1.1,
        };
      });
    },
  },
];

/** The AssemblyAI and OpenAI reconnect pages' rows: ours against the SDK as it is and with a naive reconnect loop. */
function providerReconnectRows(d, protocol) {
  const by = (name) => d.results.find((r) => r.name === name);
  const ours = by('rxjs-transcribe');
  if (ours === undefined) return [];
  const sdk = by(`${protocol}-sdk`);
  const naive = by(`${protocol}-sdk-reconnect`);
  const live = by('rxjs-transcribe-live');
  const words = (r) => `${r.words.lost} / ${r.words.doubled} / ${r.words.cutElsewhere + r.words.unknown}`;
  const peers = (f) =>
    [sdk && `${f(sdk)} (SDK)`, naive && `${f(naive)} (SDK + naive reconnect)`].filter(Boolean).join('; ');
  const timeline = (r) =>
    r.timeline.one
      ? 'yes'
      : `no (${r.timeline.offTimeline} of ${r.timeline.onTimeline + r.timeline.offTimeline} words at the wrong time)`;
  return [
    {
      measure: `${d.params.audioSeconds} s at ${d.params.pace}x, ${ours.resets} resets: words lost / doubled / wrong`,
      ours: words(ours),
      floor: peers(words),
      ratio: '',
      aim: '0 / 0 / 0',
      met:
        ours.ok && ours.words.lost + ours.words.doubled + ours.words.cutElsewhere + ours.words.unknown === 0,
    },
    {
      measure: 'audio in no final (s); final times on one timeline',
      ours: `${fixed(ours.audio.neverTranscribedMs / 1000, 1)}; ${timeline(ours)}`,
      floor: peers((r) => `${fixed(r.audio.neverTranscribedMs / 1000, 1)}; ${timeline(r)}`),
      ratio: '',
      aim: '0; yes',
      met: ours.audio.neverTranscribedMs === 0 && ours.timeline.one,
    },
    ...(live === undefined
      ? []
      : [
          {
            measure: `fed live (a chunk every ${fixed(100 / d.params.pace, 0)} ms whatever happens): words lost / doubled / wrong; audio dropped (s)`,
            ours: `${words(live)}; ${fixed(live.audio.droppedBeforeSendingMs / 1000, 1)}`,
            floor: '',
            ratio: '',
            aim: '0 / 0 / 0; 0',
            met:
              live.ok &&
              live.words.lost + live.words.doubled + live.words.cutElsewhere + live.words.unknown === 0 &&
              live.audio.droppedBeforeSendingMs === 0,
          },
        ]),
  ];
}

/** The cost page's Deepgram rows (ratios to the plain Deepgram loop), when it measured them. */
function openaiCostRows(oa) {
  const ours = oa?.summary?.['rxjs-transcribe-openai'];
  const plain = oa?.summary?.['plain-ws-openai'];
  if (ours === undefined || plain === undefined) return [];
  return [
    {
      measure: 'OpenAI Realtime: CPU s per audio hour, warm (24 kHz base64 appends)',
      ours: fixed(ours.cpuSecondsPerAudioHour),
      floor: `${fixed(plain.cpuSecondsPerAudioHour)} (plain ws, same JSON)`,
      ratio: fixed(ours.cpuRatio),
      aim: '≤ 1.15',
      met: ours.cpuRatio === null ? false : ours.cpuRatio <= 1.15,
    },
  ];
}

function deepgramCostRows(dg) {
  const ours = dg?.summary?.['rxjs-transcribe-deepgram'];
  const plain = dg?.summary?.['plain-ws-deepgram'];
  if (ours === undefined || plain === undefined) return [];
  const sdk = dg.summary['deepgram-sdk'];
  const peer = sdk === undefined ? '' : ` (deepgram-sdk ${fixed(sdk.cpuRatio)}x)`;
  return [
    {
      measure: `Deepgram: CPU s per audio hour, warm${peer}`,
      ours: fixed(ours.cpuSecondsPerAudioHour),
      floor: `${fixed(plain.cpuSecondsPerAudioHour)} (plain ws, Deepgram)`,
      ratio: fixed(ours.cpuRatio),
      aim: '',
      met: null,
    },
    {
      measure: `Deepgram: wall s per audio hour, warm${sdk === undefined ? '' : ` (deepgram-sdk ${fixed(sdk.wallRatio)}x)`}`,
      ours: fixed(ours.wallSecondsPerAudioHour),
      floor: `${fixed(plain.wallSecondsPerAudioHour)} (plain ws, Deepgram)`,
      ratio: fixed(ours.wallRatio),
      aim: '',
      met: null,
    },
  ];
}

/** The JSON of benchmark `name` in `dir`, or undefined when it has not run. */
export function load(dir, name) {
  const path = join(dir, `${name}.json`);
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
}

/** Where and when a result was taken. */
export const where = (data) =>
  `${data.date.slice(0, 10)}, ${data.machine.cpu} (${data.machine.cores} cores), Node ${data.machine.node}, ${describeRevision(data.revision ?? {})}`;

/**
 * Every benchmark's rows, as a Markdown table, from the JSON in `dir`; links
 * to the pages start with `linkPrefix` (the pages are in docs/benchmarks/).
 */
export function markdownTable(dir, linkPrefix = '') {
  const lines = [
    '| benchmark | measure | rxjs-transcribe | floor / peer | ratio | aim | met |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const b of BENCHMARKS) {
    const data = load(dir, b.name);
    if (data === undefined) {
      lines.push(`| [${b.title}](${linkPrefix}${b.name}.md) | not run | | | | | |`);
      continue;
    }
    for (const r of b.rows(data)) {
      const met = r.met === null ? '' : r.met ? 'yes' : '**no**';
      lines.push(
        `| [${b.title}](${linkPrefix}${b.name}.md) | ${r.measure} | ${r.ours} | ${r.floor} | ${r.ratio} | ${r.aim} | ${met} |`,
      );
    }
  }
  return lines.join('\n');
}

/** Writes README.md, the index of the benchmark pages, in the results directory. */
export function writeIndex() {
  const lines = [
    '# Benchmarks',
    '',
    'Every figure is taken side by side with its peers in one run, as a ratio. `npm run bench`',
    'runs them all (under 15 minutes on 2 cores) and rewrites every page, JSON file and plot',
    'here; each can also run on its own, with the command below (options after `--`).',
    '[../performance.md](../performance.md) explains the method and what the numbers mean.',
    '',
    markdownTable(outDir),
    '',
  ];
  for (const b of BENCHMARKS) {
    const data = load(outDir, b.name);
    lines.push(`## ${b.title}`, '', `[${b.name}.md](${b.name}.md) · \`${b.command}\``, '');
    lines.push(data === undefined ? 'Not run yet.' : `Latest run: ${where(data)}.`, '');
  }
  writeFileSync(join(outDir, 'README.md'), lines.join('\n'));
}
