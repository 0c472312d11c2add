// What the reconnect benchmarks share (bench/deepgram-reconnect.mjs,
// bench/assemblyai-reconnect.mjs, bench/openai-reconnect.mjs): the words the
// synthetic engine can say of the audio whichever frame a session starts at,
// one client in a process of its own, the reset schedule, and the accounting
// of what a client heard against the audio (words lost, doubled, cut
// elsewhere; audio in some final; one timeline; audio held while
// disconnected), and in the clients: the file's frames, a paced send loop
// and the memory sampler.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { median, WAV_HEADER_BYTES } from './lib.mjs';

/** Word times within this of the audio's count as on the timeline. */
export const TIME_SLACK_MS = 10;

/**
 * Every word the synthetic engine can say of this audio, whichever frame a
 * session starts at: the hash of each second that starts at a frame (and of
 * each stretch from a frame to the end of the audio, which a session's last
 * final covers), with the times in the stream of the audio it names. A
 * session that starts at frame k (as a new connection of an SDK does) names
 * seconds k, k + 10, ... frames in: real audio, cut elsewhere.
 */
export function audioWindows(pcm, frameBytes, sampleRate) {
  const frames = pcm.length / frameBytes;
  const perSecond = sampleRate * 2;
  const map = new Map();
  const add = (from, to, aligned) => {
    const word = `w${createHash('sha256').update(pcm.subarray(from, to)).digest('hex').slice(0, 8)}`;
    if (!map.has(word))
      map.set(word, { startMs: (from / perSecond) * 1000, endMs: (to / perSecond) * 1000, aligned });
  };
  for (let k = 0; k < frames; k++) {
    const from = k * frameBytes;
    if (from + perSecond <= pcm.length) add(from, from + perSecond, from % perSecond === 0);
    else add(from, pcm.length, false);
  }
  return map;
}

/**
 * One client in its own process: `command` (a Node binary) runs `args`;
 * resolves to the JSON report it prints on stdout, or `{ client, ok: false,
 * error }`. Its stderr is passed through.
 */
export function spawnClient(name, command, args, { cwd, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'inherit'],
      ...(env !== undefined ? { env } : {}),
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      out += text;
    });
    child.on('error', (error) =>
      resolve({ client: name, ok: false, error: `could not start: ${error.message}` }),
    );
    child.on('close', (code, signal) => {
      try {
        resolve(JSON.parse(out));
      } catch {
        resolve({ client: name, ok: false, error: `exited with ${signal ?? code} and no report` });
      }
    });
  });
}

/**
 * What one client heard against what the audio says, and what it held.
 * `context`: `{ words, pcmBytes, seconds, sources, frameBytes, sampleRate,
 * pacedClients }` (the audio's words, its PCM length, the windows of
 * {@link audioWindows}, and the clients whose `pacedBytes` is paced()'s queue).
 */
export function analyse(report, context) {
  const { sources, frameBytes, sampleRate, seconds } = context;
  const audioWords = context.words;
  const frameMs = (frameBytes / 2 / sampleRate) * 1000;
  const onTime = (w, source) =>
    Math.abs(w.startMs - source.startMs) <= TIME_SLACK_MS &&
    Math.abs(w.endMs - source.endMs) <= TIME_SLACK_MS;
  const heard = (report.words ?? []).map(([text, startMs, endMs, atMs]) => ({
    text,
    startMs,
    endMs,
    atMs,
    source: sources.get(text),
  }));
  // Words: the audio's words (seconds cut where the stream's are) as multisets.
  const counts = new Map();
  for (const w of heard) counts.set(w.text, (counts.get(w.text) ?? 0) + 1);
  let lost = 0;
  let doubled = 0;
  for (const word of audioWords) {
    const n = counts.get(word) ?? 0;
    if (n === 0) lost += 1;
    if (n > 1) doubled += n - 1;
  }
  const cutElsewhere = heard.filter((w) => w.source !== undefined && !w.source.aligned).length;
  const unknown = heard.filter((w) => w.source === undefined).length;
  // Audio: which 100 ms frames of the stream some final covers, wherever it was cut.
  const cover = new Uint16Array(context.pcmBytes / frameBytes);
  for (const w of heard) {
    if (w.source === undefined) continue;
    for (let f = Math.round(w.source.startMs / frameMs); f < Math.round(w.source.endMs / frameMs); f++)
      cover[f] += 1;
  }
  const framesCovered = cover.filter((n) => n > 0).length;
  const framesTwice = cover.filter((n) => n > 1).length;
  // One timeline: each word at the time of the audio it names; no time going back.
  let onTimeline = 0;
  let offTimeline = 0;
  let restarts = 0;
  const offBy = [];
  for (let i = 0; i < heard.length; i++) {
    const w = heard[i];
    if (w.source !== undefined) {
      if (onTime(w, w.source)) onTimeline += 1;
      else {
        offTimeline += 1;
        offBy.push(Math.abs(w.startMs - w.source.startMs));
      }
    }
    // A restart: a word that starts before the one before it ended (times from 0 again).
    if (i > 0 && w.startMs < heard[i - 1].endMs - TIME_SLACK_MS) restarts += 1;
  }
  // A reset is a connection that dropped without a close frame (1006); any
  // other end but the normal one is listed apart.
  const connections = report.connections ?? [];
  const dropped = (c) => /\b1006\b/.test(c.why ?? '');
  const normalEnd = (c) =>
    c.why === undefined || ['closing', 'closed', 'close 1000', 'closed by the client'].includes(c.why);
  const resets = connections.filter(dropped).length;
  const otherCloses = connections.filter((c) => !normalEnd(c) && !dropped(c)).map((c) => c.why);
  const gaps = [];
  for (let i = 1; i < connections.length; i++) {
    const before = connections[i - 1];
    if (before.closedAtMs !== undefined) gaps.push(connections[i].openedAtMs - before.closedAtMs);
  }
  // Memory: the samples from the first open to the last frame produced (or the
  // end); the disconnected ones are the windows between connections.
  const firstOpen = connections[0]?.openedAtMs ?? 0;
  const streamEnd = report.lastFrameAtMs ?? report.wallMs ?? Number.POSITIVE_INFINITY;
  const during = (report.samples ?? []).filter((s) => s.t >= firstOpen && s.t <= streamEnd);
  const down = during.filter((s) => !s.connected);
  const up = during.filter((s) => s.connected);
  const held = (s) => s.heldBytes + s.bufferedBytes;
  const peak = (list, f) => (list.length === 0 ? null : Math.max(...list.map(f)));
  const paced = (s) => s.pacedBytes ?? 0;
  const droppedMs =
    report.framesDropped !== undefined ? report.framesDropped * frameMs : (report.stats?.droppedMs ?? 0);
  const perReset = (n) => (resets > 0 ? Math.round((n / resets) * 100) / 100 : null);
  return {
    name: report.client,
    ok: report.ok === true,
    ...(report.error !== undefined ? { error: report.error } : {}),
    wallMs: Math.round(report.wallMs ?? 0),
    connections: connections.length,
    resets,
    otherCloses,
    reconnectGapMs: {
      median: gaps.length > 0 ? Math.round(median(gaps)) : null,
      max: gaps.length > 0 ? Math.round(Math.max(...gaps)) : null,
    },
    words: {
      expected: audioWords.length,
      heard: heard.length,
      right: audioWords.length - lost,
      lost,
      doubled,
      cutElsewhere,
      unknown,
      lostPerReset: perReset(lost),
      doubledPerReset: perReset(doubled),
    },
    audio: {
      seconds,
      transcribedMs: framesCovered * frameMs,
      neverTranscribedMs: (cover.length - framesCovered) * frameMs,
      transcribedTwiceMs: framesTwice * frameMs,
      neverTranscribedPerResetMs: perReset((cover.length - framesCovered) * frameMs),
      droppedBeforeSendingMs: droppedMs,
    },
    timeline: {
      onTimeline,
      offTimeline,
      medianOffByMs: offBy.length > 0 ? Math.round(median(offBy)) : null,
      restarts,
      one: offTimeline === 0 && restarts === 0 && unknown === 0,
    },
    memory: {
      samplesDisconnected: down.length,
      peakHeldWhileDisconnectedBytes: peak(down, held),
      peakHeldBytes: peak(during, held),
      peakPacedQueueBytes: context.pacedClients.includes(report.client)
        ? peak(report.samples ?? [], paced)
        : null,
      peakHeapWhileDisconnectedBytes: peak(down, (s) => s.heapUsed),
      medianHeapWhileConnectedBytes: up.length > 0 ? median(up.map((s) => s.heapUsed)) : null,
    },
    end: {
      how: report.endedHow ?? (report.ok ? 'complete' : 'error'),
      opensAfterCloseStream: report.opensAfterCloseStream ?? null,
      sdkWouldReconnect: report.sdkWouldReconnect ?? null,
      sdkRetryCount: report.sdkRetryCount ?? null,
      firstThrow: report.firstThrow ?? null,
      metadataMessages: report.metadataMessages ?? null,
    },
    ...(report.stats !== undefined ? { stats: report.stats } : {}),
    ...(report.errors !== undefined ? { sdkErrors: report.errors } : {}),
    ...(report.extra !== undefined ? { extra: report.extra } : {}),
    connectionLog: connections,
    /** [ms since the client started, connected 1/0, heldBytes, bufferedBytes, heapUsed, bytes in paced()'s queue] */
    samples: (report.samples ?? []).map((s) => [
      s.t,
      s.connected ? 1 : 0,
      s.heldBytes,
      s.bufferedBytes,
      s.heapUsed,
      paced(s),
    ]),
    /** [word, start ms, end ms as stamped, ms since the client started when heard, start ms of the audio it names] */
    heard: heard.map((w) => [w.text, w.startMs, w.endMs, w.atMs, w.source?.startMs ?? null]),
  };
}

/** The PCM after a WAV's 44-byte header, cut into frames of `frameBytes` (the last may be shorter). */
export function pcmFrames(wavPath, frameBytes) {
  const pcm = readFileSync(wavPath).subarray(WAV_HEADER_BYTES);
  const out = [];
  for (let offset = 0; offset < pcm.length; offset += frameBytes) {
    out.push(pcm.subarray(offset, Math.min(offset + frameBytes, pcm.length)));
  }
  return out;
}

/** Calls `send(frame, index)` for every frame of `frameMs` at `pace` times real time, on a clock that does not drift. */
export async function pacedLoop(frames, frameMs, pace, send) {
  const start = performance.now();
  for (let i = 0; i < frames.length; i++) {
    const wait = start + (i * frameMs) / pace - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    send(frames[i], i);
  }
}

/** Pushes `{ t: now(), heapUsed, ...read() }` into `samples` now and every `everyMs`; the returned function stops (after a last sample). */
export function sampler(samples, now, everyMs, read) {
  const take = () => samples.push({ t: now(), heapUsed: process.memoryUsage().heapUsed, ...read() });
  take();
  const timer = setInterval(take, everyMs);
  return () => {
    clearInterval(timer);
    take();
  };
}
