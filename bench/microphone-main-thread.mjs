// Main-thread cost of live capture in Chromium: the renderer main thread's time
// (Chromium's Performance domain: TaskDuration, ScriptDuration, as DevTools'
// Performance panel counts them) per minute of audio, for
// fromMicrophone().pipe(transcribe(...)) against the floor, a minimal
// hand-written getUserMedia + AudioWorklet + WebSocket loop with the same
// worklet, and an idle page over the same span (what the page costs anyway).
// Chromium's fake capture device plays the LibriVox recordings (each padded with
// silence, repeated to --seconds) as the microphone; the reference server
// (PocketSphinx) answers. One browser per run; the variants alternate within
// each round. Writes microphone-main-thread.{json,md} in docs/benchmarks/ (or --out).
//
//   node bench/microphone-main-thread.mjs [--seconds 60] [--rounds 3]
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { describeRevision, ensureOutDir, machine, median, option, outDir, revision, root } from './lib.mjs';

const seconds = option('seconds', 60);
const rounds = option('rounds', 3);
const VARIANTS = ['rxjs-transcribe', 'floor', 'idle'];
const PAGE_FUNCTION = { 'rxjs-transcribe': 'library', floor: 'floor', idle: 'idle' };
const log = (message) => process.stderr.write(`microphone-main-thread: ${message}\n`);

const { startServer } = await import(join(root, 'dist', 'esm', 'server', 'index.js'));
const rev = revision();

// The microphone's audio: the LibriVox files, 0.5 s of silence between, repeated to `seconds`,
// and 2 s of silence at the end (with %noloop Chromium repeats the last buffer).
const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const pieces = readdirSync(LIBRIVOX)
  .filter((name) => name.endsWith('.wav'))
  .sort()
  .map((name) => readFileSync(join(LIBRIVOX, name)).subarray(44));
const gap = Buffer.alloc(16000);
const wanted = seconds * 32000;
const parts = [];
for (let bytes = 0, i = 0; bytes < wanted; i++) {
  const piece = pieces[i % pieces.length];
  parts.push(piece, gap);
  bytes += piece.length + gap.length;
}
const pcm = Buffer.concat([...parts, Buffer.alloc(64000)]);
const header = Buffer.alloc(44);
header.write('RIFF', 0, 'ascii');
header.writeUInt32LE(36 + pcm.length, 4);
header.write('WAVEfmt ', 8, 'ascii');
header.writeUInt32LE(16, 16);
header.writeUInt16LE(1, 20);
header.writeUInt16LE(1, 22);
header.writeUInt32LE(16000, 24);
header.writeUInt32LE(32000, 28);
header.writeUInt16LE(2, 32);
header.writeUInt16LE(16, 34);
header.write('data', 36, 'ascii');
header.writeUInt32LE(pcm.length, 40);
const dir = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-mic-bench-'));
const wav = join(dir, 'microphone.wav');
writeFileSync(wav, Buffer.concat([header, pcm]));
const durationMs = Math.min(seconds * 1000, (pcm.length / 32000) * 1000 - 2000);

const bundle = (
  await build({
    entryPoints: [join(root, 'bench', 'microphone-page.mjs')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    absWorkingDir: root,
    logLevel: 'silent',
  })
).outputFiles[0].text;
const { createServer } = await import('node:http');
const pages = createServer((request, response) => {
  if (request.url === '/bundle.js')
    response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
  else
    response
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!doctype html><title>bench</title><script type="module" src="/bundle.js"></script>');
});
await new Promise((resolve) => pages.listen(0, '127.0.0.1', resolve));
const pagesUrl = `http://127.0.0.1:${pages.address().port}`;
const stt = await startServer({ port: 0, engine: 'pocketsphinx' });

async function runOnce(variant) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}%noloop`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(pagesUrl);
    await page.waitForFunction(() => 'benchmarks' in globalThis);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    const metrics = async () =>
      Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const before = await metrics();
    const started = performance.now();
    const running = page.evaluate(
      ([name, url, ms]) => globalThis.benchmarks[name](url, ms),
      [PAGE_FUNCTION[variant], stt.url, durationMs],
    );
    // The steady state: from 5 s of audio to 3 s before the end, without the one-time costs
    // (the AudioContext, the worklet, the prompt, the connection), which vary by a few hundred
    // ms from run to run and would swamp a per-minute figure. Polled twice a second.
    const captured = () => page.evaluate(() => globalThis.capturedMs ?? 0);
    const at = async (ms) => {
      await page.waitForFunction((m) => (globalThis.capturedMs ?? 0) >= m, ms, { polling: 500, timeout: 0 });
      return { metrics: await metrics(), capturedMs: await captured() };
    };
    const from = await at(5000);
    const to = await at(durationMs - 3000);
    const result = await running;
    const wallMs = performance.now() - started;
    const after = await metrics();
    const ms = (a, b, name) => (b[name] - a[name]) * 1000;
    const steadyAudioMs = to.capturedMs - from.capturedMs;
    return {
      variant,
      taskMs: ms(before, after, 'TaskDuration'),
      scriptMs: ms(before, after, 'ScriptDuration'),
      steadyTaskMs: ms(from.metrics, to.metrics, 'TaskDuration'),
      steadyScriptMs: ms(from.metrics, to.metrics, 'ScriptDuration'),
      steadyAudioMs,
      wallMs,
      ...result,
    };
  } finally {
    await browser.close();
  }
}

const runs = [];
try {
  for (let round = 0; round < rounds; round++) {
    for (const variant of VARIANTS) {
      const run = await runOnce(variant);
      log(
        `round ${round + 1}: ${variant} ${run.taskMs.toFixed(1)} ms of main-thread tasks over ${(run.wallMs / 1000).toFixed(1)} s (${run.finals} finals)`,
      );
      runs.push(run);
    }
  }
} finally {
  await stt.close();
  pages.close();
  rmSync(dir, { recursive: true, force: true });
}

const minutes = durationMs / 60000;
const summary = {};
for (const variant of VARIANTS) {
  const mine = runs.filter((r) => r.variant === variant);
  summary[variant] = {
    // Steady state: main-thread ms per minute of audio, from 5 s in to 3 s before the end.
    steadyTaskMsPerAudioMinute: median(mine.map((r) => (r.steadyTaskMs / r.steadyAudioMs) * 60000)),
    steadyScriptMsPerAudioMinute: median(mine.map((r) => (r.steadyScriptMs / r.steadyAudioMs) * 60000)),
    // The whole run, one-time costs included.
    taskMsPerAudioMinute: median(mine.map((r) => r.taskMs)) / minutes,
    scriptMsPerAudioMinute: median(mine.map((r) => r.scriptMs)) / minutes,
    finals: median(mine.map((r) => r.finals)),
  };
}
const over = (variant, field) => summary[variant][field] - summary.idle[field];
const ratios = {
  steadyTask:
    summary['rxjs-transcribe'].steadyTaskMsPerAudioMinute / summary.floor.steadyTaskMsPerAudioMinute,
  steadyTaskOverIdle:
    over('rxjs-transcribe', 'steadyTaskMsPerAudioMinute') / over('floor', 'steadyTaskMsPerAudioMinute'),
  steadyScript:
    summary['rxjs-transcribe'].steadyScriptMsPerAudioMinute / summary.floor.steadyScriptMsPerAudioMinute,
  wholeRunTask: summary['rxjs-transcribe'].taskMsPerAudioMinute / summary.floor.taskMsPerAudioMinute,
};
const report = {
  machine: machine(),
  date: new Date().toISOString(),
  revision: rev,
  params: {
    seconds,
    rounds,
    durationMs,
    browser: 'Debian Chromium, headless, fake capture device (44.1 kHz)',
  },
  summary,
  ratios,
  runs,
};
ensureOutDir();
writeFileSync(join(outDir, 'microphone-main-thread.json'), `${JSON.stringify(report, null, 1)}\n`);
const row = (name) => {
  const s = summary[name];
  return `| ${name} | ${s.steadyTaskMsPerAudioMinute.toFixed(1)} | ${s.steadyScriptMsPerAudioMinute.toFixed(1)} | ${s.taskMsPerAudioMinute.toFixed(1)} | ${s.finals} |`;
};
writeFileSync(
  join(outDir, 'microphone-main-thread.md'),
  `# Main-thread cost of live capture in Chromium

The renderer main thread's time (Chromium's Performance domain: \`TaskDuration\`, all tasks, and
\`ScriptDuration\`, JavaScript) per minute of audio captured, median of ${rounds} runs of
${(durationMs / 1000).toFixed(0)} s each: \`fromMicrophone().pipe(transcribe({ url }))\` against
the floor, a minimal hand-written getUserMedia + AudioWorklet + WebSocket loop with the same worklet,
and an idle page over the same span. The steady state runs from 5 s of audio to 3 s before the
end; the whole run adds the one-time costs (AudioContext, worklet, connection), which vary by a
few hundred ms between runs of the same code. Chromium's fake capture device plays the LibriVox
recordings; the reference server (PocketSphinx) answers. Made by
\`node bench/microphone-main-thread.mjs\` (${describeRevision(rev)}).

| variant | steady state: main-thread ms per audio minute | of which script | whole run, ms per audio minute | finals |
| --- | --- | --- | --- | --- |
${VARIANTS.map(row).join('\n')}

rxjs-transcribe / floor in the steady state: ${ratios.steadyTask.toFixed(2)}x of all main-thread
time, ${ratios.steadyTaskOverIdle.toFixed(2)}x over the idle page's, ${ratios.steadyScript.toFixed(2)}x
of script time; over the whole run ${ratios.wholeRunTask.toFixed(2)}x.
Machine: ${report.machine.cores} cores (${report.machine.cpu}), ${report.date}.
`,
);
log(`wrote ${join(outDir, 'microphone-main-thread.{json,md}')}`);
