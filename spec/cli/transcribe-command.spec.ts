import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { expectedSyntheticWords, syntheticPcm, wavHeader } from '../helpers/audio.js';

const BIN = new URL('../../bin/rxjs-transcribe.mjs', import.meta.url).pathname;
const SAMPLE = new URL('../../samples/sense-and-sensibility-0870.wav', import.meta.url).pathname;

interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs the CLI to its end, with `input` on its stdin (a pipe, as is its stdout: no terminal). */
function cli(args: string[], input?: Uint8Array): Promise<CliRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin.on('error', () => {}); // it may exit before reading all of it
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/** The events of `--format json` output, one per line. */
function jsonEvents(stdout: string): TranscriptEvent[] {
  expect(stdout.endsWith('\n')).toBe(true);
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as TranscriptEvent);
}

const finalsOf = (events: TranscriptEvent[]): TranscriptEvent[] => events.filter((e) => e.type === 'final');

/** The synthetic engine's words for `pcm`, with their times in ms. */
function expectedWords(pcm: Uint8Array): Array<{ text: string; startMs: number; endMs: number }> {
  return expectedSyntheticWords(pcm).map((w) => ({
    text: w.word,
    startMs: Math.round(w.start * 1000),
    endMs: Math.round(w.end * 1000),
  }));
}

interface ParsedCue {
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
}

function parseTiming(line: string | undefined, separator: ',' | '.'): [number, number] {
  const stamp = `(\\d{2,}):([0-5]\\d):([0-5]\\d)\\${separator}(\\d{3})`;
  const match = new RegExp(`^${stamp} --> ${stamp}$`).exec(line ?? '');
  if (match === null) throw new Error(`bad timing line ${JSON.stringify(line)}`);
  const n = match.slice(1).map(Number);
  const startMs = ((n[0]! * 60 + n[1]!) * 60 + n[2]!) * 1000 + n[3]!;
  const endMs = ((n[4]! * 60 + n[5]!) * 60 + n[6]!) * 1000 + n[7]!;
  if (startMs > endMs) throw new Error(`cue starts after it ends: ${line}`);
  return [startMs, endMs];
}

function cueText(lines: string[]): string {
  if (lines.length < 1 || lines.length > 2 || lines.some((l) => l.trim() === '' || l !== l.trim())) {
    throw new Error(`a cue has 1 or 2 non-blank text lines, got ${JSON.stringify(lines)}`);
  }
  return lines.join(' ');
}

/** Validates a SubRip file (index from 1, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, 1-2 lines, blank line). */
function parseSrt(file: string): ParsedCue[] {
  if (!file.endsWith('\n\n') || file.endsWith('\n\n\n'))
    throw new Error('an SRT file ends with one blank line');
  return file
    .slice(0, -2)
    .split('\n\n')
    .map((block, i) => {
      const [index, timing, ...lines] = block.split('\n');
      if (index !== String(i + 1)) throw new Error(`cue ${i + 1} has index ${JSON.stringify(index)}`);
      const [startMs, endMs] = parseTiming(timing, ',');
      return { startMs, endMs, text: cueText(lines) };
    });
}

/** Validates a WebVTT file (`WEBVTT`, blank line, then cues of `HH:MM:SS.mmm --> HH:MM:SS.mmm` and text). */
function parseVtt(file: string): ParsedCue[] {
  if (!file.startsWith('WEBVTT\n\n')) throw new Error('a WebVTT file starts with "WEBVTT" and a blank line');
  const body = file.slice('WEBVTT\n\n'.length);
  if (!body.endsWith('\n\n') || body.endsWith('\n\n\n'))
    throw new Error('each WebVTT cue ends with a blank line');
  return body
    .slice(0, -2)
    .split('\n\n')
    .map((block) => {
      const [timing, ...lines] = block.split('\n');
      const [startMs, endMs] = parseTiming(timing, '.');
      return { startMs, endMs, text: cueText(lines) };
    });
}

/** A Vosk-protocol stand-in that records what each client sends and says nothing but empty results. */
async function recordingVoskServer(): Promise<{
  url: string;
  sessions: Array<{ texts: string[]; frames: number[] }>;
  close: () => Promise<void>;
}> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  const sessions: Array<{ texts: string[]; frames: number[] }> = [];
  wss.on('connection', (socket) => {
    const session = { texts: [] as string[], frames: [] as number[] };
    sessions.push(session);
    socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        session.frames.push(data.length);
        socket.send('{"partial": ""}');
        return;
      }
      const text = data.toString();
      session.texts.push(text);
      if (text.includes('eof')) {
        socket.send('{"text": ""}');
        socket.close(1000);
      }
    });
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    sessions,
    close: () => new Promise((resolve) => wss.close(() => resolve())),
  };
}

let dir: string;
/** 2.5 s: two full seconds and a half one, so three words. */
const pcm = syntheticPcm(2.5);
const words = expectedWords(pcm);
const wordTexts = words.map((w) => w.text);
let wavPath: string;
let rawPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-cli-'));
  wavPath = join(dir, 'speech.wav');
  rawPath = join(dir, 'speech.pcm');
  writeFileSync(wavPath, Buffer.concat([wavHeader(pcm.length), pcm]));
  writeFileSync(rawPath, pcm);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('rxjs-transcribe FILE with the synthetic engine (needs dist/, built by npm test)', () => {
  it('--format json prints one TranscriptEvent per line, the finals timed in ms and worded as the audio says', async () => {
    const run = await cli([wavPath, '--engine', 'synthetic', '--format', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const events = jsonEvents(run.stdout);
    for (const event of events) {
      expect(['partial', 'final']).toContain(event.type);
      expect(typeof event.text).toBe('string');
      expect(Number.isInteger(event.startMs) && Number.isInteger(event.endMs)).toBe(true);
      expect(Array.isArray(event.words)).toBe(true);
    }
    const finals = finalsOf(events);
    expect(
      finals.flatMap((e) => e.words.map(({ text, startMs, endMs }) => ({ text, startMs, endMs }))),
    ).toEqual(words);
    expect(words.map((w) => [w.startMs, w.endMs])).toEqual([
      [0, 1000],
      [1000, 2000],
      [2000, 2500],
    ]);
    for (const final of finals) {
      expect(final.text).toBe(final.words.map((w) => w.text).join(' '));
      expect(final.startMs).toBe(final.words[0]!.startMs);
      expect(final.endMs).toBe(final.words.at(-1)!.endMs);
    }
  });

  it('--format srt prints a valid SubRip file whose cues are the words in order, at their times', async () => {
    const run = await cli([wavPath, '--engine', 'synthetic', '--format', 'srt']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(parseSrt(run.stdout)).toEqual(words);
  });

  it('--format vtt prints a valid WebVTT file whose cues are the words in order, at their times', async () => {
    const run = await cli([wavPath, '--engine', 'synthetic', '--format', 'vtt']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(parseVtt(run.stdout)).toEqual(words);
  });

  it('text format, stdout not a terminal: prints the final lines only, with no progress bar or escape codes', async () => {
    const run = await cli([wavPath, '--engine', 'synthetic']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${wordTexts.join('\n')}\n`);
    expect(run.stderr).toBe('');
  });

  it.each([
    ['a WAV file', () => Buffer.concat([wavHeader(pcm.length), pcm]), []],
    ['raw PCM (16 kHz mono s16le by default)', () => pcm, []],
    ['raw PCM with --rate 16000', () => pcm, ['--rate', '16000']],
  ])('reads %s from stdin given -', async (_, input, flags) => {
    const run = await cli(['-', '--engine', 'synthetic', '--format', 'json', ...flags], input());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(finalsOf(jsonEvents(run.stdout)).flatMap((e) => e.words.map((w) => w.text))).toEqual(wordTexts);
  });

  it('reads a raw PCM file given --rate, and the same audio as stereo (--channels 2) or float (--encoding f32le)', async () => {
    const samples = pcm.length / 2;
    const stereo = Buffer.alloc(samples * 4);
    const float = Buffer.alloc(samples * 4);
    for (let i = 0; i < samples; i++) {
      const x = pcm.readInt16LE(i * 2);
      stereo.writeInt16LE(x, i * 4);
      stereo.writeInt16LE(x, i * 4 + 2);
      float.writeFloatLE(x < 0 ? x / 32768 : x / 32767, i * 4);
    }
    const stereoPath = join(dir, 'stereo.pcm');
    const floatPath = join(dir, 'float.pcm');
    writeFileSync(stereoPath, stereo);
    writeFileSync(floatPath, float);
    for (const args of [
      [rawPath, '--rate', '16000'],
      [stereoPath, '--channels', '2'],
      [floatPath, '--encoding', 'f32le', '--rate', '16000', '--channels', '1'],
    ]) {
      const run = await cli([...args, '--engine', 'synthetic']);
      expect(run.stderr, args.join(' ')).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout, args.join(' ')).toBe(`${wordTexts.join('\n')}\n`);
    }
  });

  it('--realtime 20 still gives the right words', async () => {
    const twoSeconds = syntheticPcm(2, 16000, 7);
    const path = join(dir, 'two-seconds.wav');
    writeFileSync(path, Buffer.concat([wavHeader(twoSeconds.length), twoSeconds]));
    const run = await cli([path, '--engine', 'synthetic', '--realtime', '20', '--format', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(finalsOf(jsonEvents(run.stdout)).flatMap((e) => e.words)).toMatchObject(expectedWords(twoSeconds));
  });

  it('a bare --realtime before FILE means 1x and leaves FILE alone (0.5 s of audio takes at least 0.4 s)', async () => {
    const half = syntheticPcm(0.5, 16000, 3);
    const path = join(dir, 'half-second.wav');
    writeFileSync(path, Buffer.concat([wavHeader(half.length), half]));
    const run = await cli(['--realtime', path, '--engine', 'synthetic']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${expectedWords(half)[0]!.text}\n`);
    expect(run.ms).toBeGreaterThanOrEqual(400);
  });

  it('stops quietly, with status 0, when the reader of stdout goes away (as with | head)', async () => {
    const tenSeconds = syntheticPcm(10, 16000, 5);
    const path = join(dir, 'ten-seconds.wav');
    writeFileSync(path, Buffer.concat([wavHeader(tenSeconds.length), tenSeconds]));
    const child = spawn(process.execPath, [BIN, path, '--engine', 'synthetic', '--realtime', '10'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [first] = (await once(child.stdout, 'data')) as [Buffer];
    expect(first.toString().startsWith(`${expectedWords(tenSeconds)[0]!.text}\n`)).toBe(true);
    child.stdout.destroy();
    const [code] = (await once(child, 'close')) as [number | null];
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('stops quietly too when the reader goes away just before the last result', async () => {
    const path = join(dir, 'short.wav');
    const audio = syntheticPcm(2.5, 16000, 7);
    writeFileSync(path, Buffer.concat([wavHeader(audio.length), audio]));
    for (let run = 0; run < 3; run++) {
      const child = spawn(
        process.execPath,
        [BIN, path, '--engine', 'synthetic', '--realtime', '2', '--format', 'json'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      let lines = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        lines += chunk.toString().split('\n').length - 1;
        if (lines >= 2) child.stdout.destroy();
      });
      const [code] = (await once(child, 'close')) as [number | null];
      expect(stderr).toBe('');
      expect(code).toBe(0);
    }
  });

  it('writes nothing on stdout, not even the WebVTT header, when the run fails', async () => {
    const run = await cli([join(dir, 'does-not-exist.wav'), '--engine', 'synthetic', '--format', 'vtt']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
  });

  describe('with --url', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ port: 0, engine: 'synthetic' });
    });
    afterAll(async () => {
      await server.close();
    });

    it('transcribes on the server it names', async () => {
      const run = await cli([wavPath, '--url', server.url, '--format', 'json']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(finalsOf(jsonEvents(run.stdout)).flatMap((e) => e.words)).toMatchObject(words);
      expect(server.stats().sessionsTotal).toBe(1);
    });

    it('sends the audio in frames of 100 ms, or of --frame-ms', async () => {
      const fake = await recordingVoskServer();
      try {
        for (const [flags, frameBytes] of [
          [[], 3200],
          [['--frame-ms', '250'], 8000],
        ] as const) {
          const run = await cli([wavPath, '--url', fake.url, ...flags]);
          expect(run.stderr).toBe('');
          expect(run.code).toBe(0);
          const sessions = fake.sessions.splice(0);
          expect(sessions).toHaveLength(1);
          const { texts, frames } = sessions[0]!;
          expect(JSON.parse(texts[0]!)).toEqual({ config: { sample_rate: 16000, words: true } });
          expect(texts.slice(1)).toEqual(['{"eof" : 1}']);
          expect(frames.reduce((sum, n) => sum + n, 0)).toBe(pcm.length);
          expect(frames.slice(0, -1).every((n) => n === frameBytes)).toBe(true);
          expect(frames.at(-1)!).toBeLessThanOrEqual(frameBytes);
        }
      } finally {
        await fake.close();
      }
    });
  });
});

describe('rxjs-transcribe FILE errors', () => {
  const cases: Array<[string, () => string[], RegExp]> = [
    [
      'a file that does not exist',
      () => [join(dir, 'missing.wav'), '--engine', 'synthetic'],
      /missing\.wav.*ENOENT/,
    ],
    [
      'a .wav file that is not WAV',
      () => {
        const path = join(dir, 'hello.wav');
        writeFileSync(path, 'hello');
        return [path, '--engine', 'synthetic'];
      },
      /hello\.wav is not a WAV file.*--rate/,
    ],
    ['a --url where nothing listens', () => [wavPath, '--url', 'ws://127.0.0.1:1'], /ws:\/\/127\.0\.0\.1:1/],
    [
      '--format xml',
      () => [wavPath, '--format', 'xml'],
      /^--format takes text, json, srt or vtt, got "xml"$/,
    ],
    ['--engine whisper', () => [wavPath, '--engine', 'whisper'], /^--engine takes pocketsphinx or synthetic/],
    ['--encoding s24le', () => [rawPath, '--encoding', 's24le'], /^--encoding takes s16le or f32le/],
    ['--rate 1.5', () => [rawPath, '--rate', '1.5'], /^--rate takes a positive whole number, got "1\.5"$/],
    ['--frame-ms 0', () => [wavPath, '--frame-ms', '0'], /^--frame-ms takes a positive number, got "0"$/],
    ['--realtime 0', () => [wavPath, '--realtime', '0'], /^--realtime takes a positive number, got "0"$/],
    ['--realtime -1', () => [wavPath, '--realtime', '-1'], /^--realtime takes a positive number, got "-1"$/],
    ['--engine with --url', () => [wavPath, '--url', 'ws://127.0.0.1:1', '--engine', 'synthetic'], /--url/],
    ['two files', () => [wavPath, rawPath], /^give exactly one FILE/],
    ['an unknown flag', () => [wavPath, '--bogus'], /--bogus/],
  ];

  it.each(cases)('%s: exit status 1, one line on stderr, nothing on stdout', async (_, args, message) => {
    const run = await cli(args());
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.endsWith('\n')).toBe(true);
    const lines = run.stderr.slice(0, -1).split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.startsWith('rxjs-transcribe: ')).toBe(true);
    expect(lines[0]!.slice('rxjs-transcribe: '.length)).toMatch(message);
  });
});

describe('rxjs-transcribe FILE with PocketSphinx (the default engine)', () => {
  let reference: string[];
  beforeAll(async () => {
    const { stdout } = await promisify(execFile)('pocketsphinx_continuous', [
      '-infile',
      SAMPLE,
      '-logfn',
      '/dev/null',
    ]);
    reference = stdout.split(/\s+/).filter((w) => w !== '');
  });

  it('--format json: the finals say what pocketsphinx_continuous says of the same file', async () => {
    expect(reference.length).toBeGreaterThan(10);
    const run = await cli([SAMPLE, '--format', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const events = jsonEvents(run.stdout);
    // The partials are printed too, as they come, each before the final that settles them.
    expect(events.filter((e) => e.type === 'partial').length).toBeGreaterThan(0);
    expect(events.at(-1)!.type).toBe('final');
    const finals = finalsOf(events);
    expect(
      finals
        .map((e) => e.text)
        .join(' ')
        .split(/\s+/)
        .filter((w) => w !== ''),
    ).toEqual(reference);
    expect(finals.flatMap((e) => e.words.map((w) => w.text))).toEqual(reference);
  });

  it('text format, stdout not a terminal: the final lines only, none of the partials', async () => {
    const run = await cli([SAMPLE]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\r');
    expect(run.stdout).not.toContain('\u001b');
    const lines = run.stdout.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).join(' ').split(/\s+/)).toEqual(reference);
  });
});
