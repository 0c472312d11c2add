// The soak's audio and its answer key: an endless live source of
// deterministic noise (different per session), generated a second at a time
// with the word the synthetic engine must answer for that second, and a
// checker that compares finals with those words as they arrive, so neither
// the audio nor the transcript is held for the length of the run.
import { createHash } from 'node:crypto';
import { Observable } from 'rxjs';

export const SAMPLE_RATE = 16_000;
const FORMAT = { sampleRate: SAMPLE_RATE, channels: 1, encoding: 'pcm_s16le' };

/** The synthetic engine's word for one second of PCM: "w" and 8 hex digits of its SHA-256. */
export function syntheticWord(pcm) {
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return `w${createHash('sha256').update(bytes).digest('hex').slice(0, 8)}`;
}

/** Seconds of xorshift32 noise from `seed`: the same samples on every run and machine. */
export function noiseSeconds(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    const second = new Int16Array(SAMPLE_RATE);
    for (let i = 0; i < second.length; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      // Quiet noise: +-8192 of the 16-bit range.
      second[i] = (state & 0x3fff) - 0x2000;
    }
    return second;
  };
}

/**
 * A source that cannot wait, as a microphone: `chunkMs` chunks of noise on a
 * timer, `speed` times real time, from subscription on. Each new second's
 * word goes to `onSecond(index, word)` before its first chunk leaves.
 * `shouldStop()` is asked at each whole second; true completes the source
 * there, so the audio is always whole seconds (whole words).
 */
export function liveNoise({ seed, speed, chunkMs = 100, onSecond, shouldStop }) {
  const perSecond = 1000 / chunkMs;
  const chunkSamples = SAMPLE_RATE / perSecond;
  if (!Number.isInteger(perSecond) || !Number.isInteger(chunkSamples)) {
    throw new RangeError(`chunkMs must divide a second into whole samples, got ${chunkMs}`);
  }
  return new Observable((subscriber) => {
    const next = noiseSeconds(seed);
    const startedAt = performance.now();
    let chunks = 0;
    let second;
    let timer;
    const due = () => startedAt + (chunks * chunkMs) / speed;
    const tick = () => {
      // What is due by now, a second of audio at most per turn of the event loop: a source
      // that fell behind (a busy machine) catches up in steps instead of holding the loop,
      // which would starve the timers and sockets that drain it.
      for (let n = 0; n < perSecond && !subscriber.closed && due() <= performance.now(); n++) {
        const index = chunks % perSecond;
        if (index === 0) {
          if (shouldStop()) {
            subscriber.complete();
            return;
          }
          second = next();
          onSecond(chunks / perSecond, syntheticWord(second));
        }
        subscriber.next({
          format: FORMAT,
          samples: second.subarray(index * chunkSamples, (index + 1) * chunkSamples),
        });
        chunks += 1;
      }
      if (!subscriber.closed) timer = setTimeout(tick, Math.max(0, due() - performance.now()));
    };
    tick();
    return () => clearTimeout(timer);
  });
}

/**
 * Checks finals against the words expected, as they arrive. Word i must be
 * the word of second i, from i s to i + 1 s. A word at a second already
 * passed is doubled; seconds skipped are lost; a word with other text or
 * times is wrong. Holds only the words expected and not yet heard.
 */
export function transcriptCheck({ keepSamples = 10 } = {}) {
  const expected = new Map();
  const counts = { ok: 0, lost: 0, doubled: 0, wrong: 0 };
  const samples = [];
  let next = 0;
  const note = (problem, detail) => {
    if (samples.length < keepSamples) samples.push({ problem, ...detail });
  };
  const lose = (upTo) => {
    for (; next < upTo; next++) {
      counts.lost += 1;
      note('lost', { second: next, expected: expected.get(next) });
      expected.delete(next);
    }
  };
  return {
    counts,
    samples,
    /** Words expected and not heard yet. */
    get pending() {
      return expected.size;
    },
    expect(second, word) {
      expected.set(second, word);
    },
    final(words) {
      for (const { text, startMs, endMs } of words) {
        const second = Math.round(startMs / 1000);
        if (second < next) {
          counts.doubled += 1;
          note('doubled', { second, text, startMs, endMs });
          continue;
        }
        lose(second);
        const want = expected.get(second);
        expected.delete(second);
        next = second + 1;
        if (text === want && startMs === second * 1000 && endMs === startMs + 1000) counts.ok += 1;
        else {
          counts.wrong += 1;
          note('wrong', { second, text, startMs, endMs, expected: want });
        }
      }
    },
    /** At the end of a session of `seconds` seconds: what was never heard is lost. */
    finish(seconds) {
      lose(seconds);
    },
  };
}
