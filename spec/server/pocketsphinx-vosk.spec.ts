import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pocketsphinxBinary } from '../../src/server/engines/pocketsphinx-binary.js';
import { PcmRateConverter } from '../../src/server/pcm-rate-converter.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { continuousWords, librivoxFiles, wavHeader, wavPcm } from '../helpers/audio.js';
import { childProcesses } from '../helpers/processes.js';
import { eventually } from '../helpers/resources.js';
import { CONFIG_16K, chunk, EOF, finalText, finalWords, runClient } from '../helpers/vosk-client.js';

const ENGINE_COMM = 'pocketsphinx-en'; // a session's process (the kernel keeps 15 characters)
const POOL_COMM = 'ps-engine-pool';
const CARDS = '/usr/share/pocketsphinx/test/data/cards';
const cards = ['001', '002', '003', '004', '005'].map((id) => join(CARDS, `${id}.wav`));
const FRAME = 3200; // 100 ms at 16 kHz

const RANKS = [
  'ace',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'jack',
  'queen',
  'king',
];
const SUITS = ['clubs', 'hearts', 'diamonds', 'spades'];
/** A Vosk client's phrase list for playing cards: every card, and every rank alone. */
const PHRASES = [...RANKS.flatMap((rank) => SUITS.map((suit) => `${rank} of ${suit}`)), ...RANKS];

function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

function config(extra: Record<string, unknown>): string {
  return JSON.stringify({ config: { sample_rate: 16000, words: true, ...extra } });
}

let dir: string;
let server: RunningServer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ps-vosk-'));
  server = await startServer({ port: 0, engine: 'pocketsphinx' });
}, 60_000);
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Writes 16 kHz PCM as a WAV file for pocketsphinx_continuous. */
function writeWav(name: string, pcm: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([wavHeader(pcm.length), pcm]));
  return path;
}

describe('pocketsphinx engine, {"reset" : 1}', () => {
  it('answers a reset with the final pocketsphinx_continuous gives for the audio so far, then goes on', async () => {
    const file = librivoxFiles()[0]!; // 7.1 s, one utterance
    const pcm = wavPcm(file);
    // Cut on a 2048-sample block, where the engine (like pocketsphinx_continuous) feeds the decoder.
    const cut = 2048 * 2 * 28; // 3.58 s
    const before = await continuousWords(writeWav('before.wav', pcm.subarray(0, cut)));
    expect(before.length).toBeGreaterThan(3);
    const run = await runClient(
      server.url,
      [
        CONFIG_16K,
        ...chunk(pcm.subarray(0, cut), FRAME),
        '{"reset" : 1}',
        ...chunk(pcm.subarray(cut), FRAME),
        EOF,
      ],
      { mode: 'lockstep' },
    );
    expect(run.closeCode).toBe(1000);
    const resetReply = run.replies[Math.ceil(cut / FRAME)]!;
    expect(words(String(resetReply.text))).toEqual(before);
    // The session went on: the rest of the audio has words, timed from the start of the stream.
    const after = run.replies
      .slice(Math.ceil(cut / FRAME) + 1)
      .flatMap((r) => (Array.isArray(r.result) ? r.result : []));
    expect(after.length).toBeGreaterThan(3);
    const cutSeconds = cut / 32000;
    for (const word of after as Array<{ start: number; end: number }>) {
      // PocketSphinx's voice detector keeps up to 20 frames (0.2 s) from before speech starts.
      expect(word.start).toBeGreaterThanOrEqual(cutSeconds - 0.21);
      expect(word.end).toBeLessThanOrEqual(pcm.length / 32000 + 0.01);
    }
  }, 60_000);
});

describe('pocketsphinx engine, phrase_list', () => {
  /** The grammar docs/server.md documents for a phrase list: any sequence of the phrases. */
  const grammar = `#JSGF V1.0;\ngrammar phrases;\npublic <phrases> = ( ${PHRASES.join(' | ')} ) +;\n`;
  let gram: string;
  beforeAll(() => {
    gram = join(dir, 'cards.gram');
    writeFileSync(gram, grammar);
  });

  for (const file of cards) {
    it(`says what pocketsphinx_continuous -jsgf says for ${basename(file)}`, async () => {
      const { stdout } = await promisify(execFile)('pocketsphinx_continuous', [
        '-jsgf',
        gram,
        '-infile',
        file,
        '-logfn',
        '/dev/null',
        // A grammar search switched to at run time (as a session's phrase list is) runs
        // without the phone-loop lookahead in this PocketSphinx, as -pl_window 0 does.
        '-pl_window',
        '0',
      ]);
      const expected = words(stdout);
      expect(expected.length).toBeGreaterThan(0);
      // Upper case and a word missing from the dictionary are what a Vosk client may send: both are taken.
      const phrases = [...PHRASES.map((p) => p.toUpperCase()), 'xyzzyplugh'];
      const run = await runClient(server.url, [
        config({ phrase_list: phrases }),
        ...chunk(wavPcm(file), FRAME),
        EOF,
      ]);
      expect(run.closeCode).toBe(1000);
      expect(words(finalText(run))).toEqual(expected);
      expect(finalWords(run).map((w) => w.word)).toEqual(expected);
    }, 30_000);
  }
});

describe('pocketsphinx engine, max_alternatives', () => {
  interface Alternative {
    text: string;
    confidence: number;
    result?: Array<{ word: string; start: number; end: number }>;
  }
  const alternativesOf = (reply: Record<string, unknown>): Alternative[] =>
    reply.alternatives as Alternative[];

  it('gives finals as Vosk does, {"alternatives": [{text, confidence, result}]}, distinct texts, at most N', async () => {
    for (const file of cards) {
      const pcm = wavPcm(file);
      const run = await runClient(server.url, [config({ max_alternatives: 4 }), ...chunk(pcm, FRAME), EOF]);
      expect(run.closeCode).toBe(1000);
      const finals = run.replies.filter((r) => 'alternatives' in r);
      expect(finals.length).toBeGreaterThan(0);
      expect(run.replies.every((r) => 'partial' in r || 'alternatives' in r)).toBe(true);
      const spoken = finals.map(alternativesOf).filter((list) => list[0]!.text !== '');
      expect(spoken.length).toBeGreaterThan(0);
      for (const list of spoken) {
        expect(list.length).toBeGreaterThanOrEqual(1);
        expect(list.length).toBeLessThanOrEqual(4);
        expect(new Set(list.map((a) => a.text)).size).toBe(list.length);
        for (const alternative of list) {
          expect(typeof alternative.confidence).toBe('number');
          // Vosk's words in an alternative: word, start, end (no conf), saying the text.
          expect(alternative.result!.map((w) => w.word).join(' ')).toBe(alternative.text);
          for (const word of alternative.result!) {
            expect(Object.keys(word).sort()).toEqual(['end', 'start', 'word']);
            expect(word.end).toBeGreaterThan(word.start);
            expect(word.end).toBeLessThanOrEqual(pcm.length / 32000 + 0.01);
          }
        }
      }
    }
  }, 60_000);

  it('lists the same best alternative whatever N, and omits result when words is false', async () => {
    const pcm = wavPcm(cards[4]!);
    const one = await runClient(server.url, [
      config({ max_alternatives: 1, words: false }),
      ...chunk(pcm, FRAME),
      EOF,
    ]);
    const five = await runClient(server.url, [config({ max_alternatives: 5 }), ...chunk(pcm, FRAME), EOF]);
    const best = (run: typeof one): string[] =>
      run.replies.filter((r) => 'alternatives' in r).map((r) => alternativesOf(r)[0]!.text);
    expect(best(one)).toEqual(best(five));
    for (const reply of one.replies.filter((r) => 'alternatives' in r)) {
      expect(alternativesOf(reply)).toHaveLength(1);
      expect(alternativesOf(reply)[0]!.result).toBeUndefined();
    }
  }, 60_000);

  it('keeps every alternative inside the grammar of a phrase list', async () => {
    const vocabulary = new Set(PHRASES.flatMap(words));
    const run = await runClient(server.url, [
      config({ max_alternatives: 5, phrase_list: PHRASES }),
      ...chunk(wavPcm(cards[4]!), FRAME),
      EOF,
    ]);
    const texts = run.replies
      .filter((r) => 'alternatives' in r)
      .flatMap((r) => alternativesOf(r).map((a) => a.text));
    expect(texts.join(' ').length).toBeGreaterThan(0);
    for (const word of words(texts.join(' '))) expect(vocabulary.has(word)).toBe(true);
  }, 60_000);

  it("answers an EOF with no speech with Vosk's empty alternative", async () => {
    const run = await runClient(server.url, [config({ max_alternatives: 3 }), EOF]);
    expect(run.replies).toEqual([{ alternatives: [{ text: '', confidence: 1 }] }]);
  });
});

describe('pocketsphinx engine, any sample rate', () => {
  const file = librivoxFiles()[0]!;
  /** The file at 8 kHz, as a telephony client would send it. */
  const narrow = (): Buffer => {
    const down = new PcmRateConverter(16000, 8000);
    return Buffer.concat([down.push(wavPcm(file)), down.flush()]);
  };
  /** What the server feeds the engine for 8 kHz audio: the library's resampler, back up to 16 kHz. */
  const fed = (pcm8k: Buffer): Buffer => {
    const up = new PcmRateConverter(8000, 16000);
    return Buffer.concat([up.push(pcm8k), up.flush()]);
  };

  it('resamples 8 kHz audio (config or WAV header) and says what pocketsphinx_continuous says for it', async () => {
    const pcm8k = narrow();
    const expected = await continuousWords(writeWav('narrow-up.wav', fed(pcm8k)));
    expect(expected.length).toBeGreaterThan(3);
    const viaConfig = await runClient(server.url, [
      '{"config": {"sample_rate": 8000}}',
      ...chunk(pcm8k, 1600),
      EOF,
    ]);
    expect(viaConfig.closeCode).toBe(1000);
    expect(finalWords(viaConfig).map((w) => w.word)).toEqual(expected);
    const viaWav = await runClient(server.url, [
      ...chunk(Buffer.concat([wavHeader(pcm8k.length, 8000), pcm8k]), 4000),
      EOF,
    ]);
    expect(viaWav.closeCode).toBe(1000);
    expect(finalWords(viaWav).map((w) => w.word)).toEqual(expected);
    // Word times are in seconds of the client's audio.
    expect(finalWords(viaWav).at(-1)!.end).toBeLessThanOrEqual(pcm8k.length / 16000 + 0.01);
  }, 60_000);

  it('takes 44.1 kHz as well', async () => {
    const up = new PcmRateConverter(16000, 44100);
    const pcm = Buffer.concat([up.push(wavPcm(file)), up.flush()]);
    const run = await runClient(server.url, ['{"config": {"sample_rate": 44100}}', ...chunk(pcm, 8820), EOF]);
    expect(run.closeCode).toBe(1000);
    expect(finalWords(run).length).toBeGreaterThan(3);
  }, 60_000);
});

describe('pocketsphinx engine, the warm pool', () => {
  it('ends only the session whose process is killed (1011), the pool and the others go on, nothing is left', async () => {
    // The sessions of the tests before are gone (their processes may take a moment to exit).
    await eventually(() => expect(childProcesses(ENGINE_COMM)).toEqual([]));
    const file = librivoxFiles()[2]!;
    const expected = await continuousWords(file);
    const pcm = wavPcm(file);
    let victimReplies = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The victim holds after its third reply, so that its process is alive and mid-stream when killed.
    const victim = runClient(server.url, [CONFIG_16K, ...chunk(pcm, FRAME), EOF], {
      mode: 'lockstep',
      onOpen: (socket) =>
        socket.on('message', () => {
          victimReplies += 1;
          if (victimReplies === 3) socket.pause();
          void gate.then(() => socket.resume());
        }),
    });
    await eventually(() => expect(victimReplies).toBeGreaterThanOrEqual(3), 20_000);
    const fresh = childProcesses(ENGINE_COMM);
    expect(fresh).toHaveLength(1);
    const pools = childProcesses(POOL_COMM);
    expect(pools).toHaveLength(1);
    const other = runClient(server.url, [CONFIG_16K, ...chunk(pcm, FRAME), EOF], { mode: 'lockstep' });
    process.kill(fresh[0]!, 'SIGKILL');
    release();
    const killed = await victim;
    expect(killed.closeCode).toBe(1011);
    expect(killed.closeReason).toMatch(/pocketsphinx engine was killed by SIGKILL/);
    const survivor = await other;
    expect(survivor.closeCode).toBe(1000);
    expect(words(finalText(survivor))).toEqual(expected);
    await eventually(() => expect(childProcesses(ENGINE_COMM)).toEqual([]));
    expect(childProcesses(POOL_COMM)).toEqual(pools);
  }, 60_000);

  it('ends every session with 1011 when the pool itself dies, leaves no process, and starts again', async () => {
    const existing = childProcesses(POOL_COMM);
    const local = await startServer({ port: 0, engine: 'pocketsphinx' });
    try {
      let pool = 0;
      await eventually(() => {
        const fresh = childProcesses(POOL_COMM).filter((pid) => !existing.includes(pid));
        expect(fresh).toHaveLength(1);
        pool = fresh[0]!;
      }, 20_000);
      const pcm = wavPcm(librivoxFiles()[0]!);
      let replies = 0;
      const runs = [1, 2].map(() =>
        runClient(local.url, [CONFIG_16K, ...chunk(pcm, FRAME), EOF], {
          mode: 'lockstep',
          onOpen: (socket) => socket.on('message', () => (replies += 1)),
        }),
      );
      await eventually(() => expect(replies).toBeGreaterThan(4), 20_000);
      process.kill(pool, 'SIGKILL');
      for (const run of await Promise.all(runs)) {
        expect(run.closeCode).toBe(1011);
        expect(run.closeReason).toMatch(/engine/);
      }
      await eventually(() => expect(childProcesses(POOL_COMM)).not.toContain(pool));
      const again = await runClient(local.url, [
        CONFIG_16K,
        ...chunk(wavPcm(librivoxFiles()[1]!), FRAME),
        EOF,
      ]);
      expect(again.closeCode).toBe(1000);
      expect(finalWords(again).length).toBeGreaterThan(3);
    } finally {
      await local.close();
    }
    // The shared server is idle here: its pool may stay, but no session process may.
    await eventually(() => expect(childProcesses(ENGINE_COMM)).toEqual([]));
    expect(childProcesses(POOL_COMM)).toHaveLength(1);
  }, 90_000);

  it('takes its sessions with it when its parent is killed, so nothing outlives the server', async () => {
    const binary = await pocketsphinxBinary();
    const socketPath = join(dir, 'orphan.sock');
    // A shell stands in for the server's process: it starts the pool (on its own stdin: a
    // background job would get /dev/null), and is then killed outright.
    const shell = spawn('bash', ['-c', '"$0" --listen "$1" 0<&0 & echo $!; wait', binary, socketPath], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let out = '';
    shell.stdout.setEncoding('utf8');
    shell.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    await eventually(() => expect(out).toMatch(/^\d+\nR\n/), 20_000);
    const pool = Number(out.split('\n')[0]);
    const session = connect(socketPath);
    let hello = '';
    session.setEncoding('utf8');
    session.on('data', (chunk: string) => {
      hello += chunk;
    });
    session.on('error', () => {});
    await eventually(() => expect(hello).toMatch(/^P \d+\n/));
    const child = Number(/^P (\d+)/.exec(hello)![1]);
    const alive = (pid: number): boolean =>
      existsSync(`/proc/${pid}/stat`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    expect(alive(pool) && alive(child)).toBe(true);
    shell.kill('SIGKILL');
    await eventually(() => expect([alive(pool), alive(child)]).toEqual([false, false]), 10_000);
    session.destroy();
    shell.stdin.destroy();
  }, 30_000);
});
