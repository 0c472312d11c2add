import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import {
  type AssemblyAIMessage,
  finalWords,
  paced,
  runAssemblyAI,
  turnsOf,
  v3Url,
} from '../helpers/assemblyai-client.js';
import { expectedSyntheticWords, syntheticPcm } from '../helpers/audio.js';
import { eventually } from '../helpers/resources.js';
import { chunk } from '../helpers/vosk-client.js';

/** The synthetic engine's words for this PCM, as AssemblyAI words (ms). */
function expectedWords(pcm: Uint8Array, offsetMs = 0) {
  return expectedSyntheticWords(pcm).map((w) => ({
    text: w.word,
    start: Math.round(w.start * 1000) + offsetMs,
    end: Math.round(w.end * 1000) + offsetMs,
    confidence: 1,
    word_is_final: true,
  }));
}

const TERMINATE = '{"type":"Terminate"}';

function errorOf(messages: readonly AssemblyAIMessage[]): AssemblyAIMessage | undefined {
  return messages.find((m) => m.type === 'Error');
}

describe("AssemblyAI's Universal-Streaming v3 on the reference server (/v3/ws), synthetic engine", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, engine: 'synthetic' });
  });
  afterAll(() => server.close());

  it('sends Begin at once, Turns in AssemblyAI shape with word times in ms, and on Terminate the last turn, Termination and close 1000', async () => {
    const pcm = syntheticPcm(2.5, 16000, 7);
    const before = Date.now();
    const run = await runAssemblyAI(v3Url(server.url), [...paced(pcm), TERMINATE]);
    const begin = run.messages[0]!;
    expect(begin.type).toBe('Begin');
    expect(begin.id).toMatch(/^[0-9a-f-]{36}$/);
    // The 3-hour limit, in Unix seconds.
    expect(begin.expires_at).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 10_800 - 1);
    expect(begin.expires_at).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 10_800);
    expect(finalWords(run)).toEqual(expectedWords(pcm));
    const turns = turnsOf(run);
    expect(turns.map((t) => t.turn_order)).toEqual([0, 1, 2]);
    for (const turn of turns) {
      expect(turn).toMatchObject({ end_of_turn: true, turn_is_formatted: false, end_of_turn_confidence: 1 });
      expect(turn.transcript).toBe((turn.words as Array<{ text: string }>).map((w) => w.text).join(' '));
    }
    const last = run.messages.at(-1)!;
    expect(last).toEqual({ type: 'Termination', audio_duration_seconds: 3, session_duration_seconds: 3 });
    expect(run.closeCode).toBe(1000);
  }, 15_000);

  it('with format_turns, sends each end of turn twice: as it is, then formatted', async () => {
    const pcm = syntheticPcm(2, 16000, 8);
    const run = await runAssemblyAI(v3Url(server.url, { format_turns: 'true' }), [...paced(pcm), TERMINATE]);
    const turns = turnsOf(run);
    expect(turns.map((t) => [t.turn_order, t.turn_is_formatted])).toEqual([
      [0, false],
      [0, true],
      [1, false],
      [1, true],
    ]);
    const plain = finalWords(run);
    const formatted = finalWords(run, true);
    expect(plain).toEqual(expectedWords(pcm));
    expect(formatted.map((w) => w.text)).toEqual(plain.map((w) => `W${w.text.slice(1)}.`));
    expect(formatted.map((w) => [w.start, w.end])).toEqual(plain.map((w) => [w.start, w.end]));
  }, 15_000);

  it('ends the turn in progress on ForceEndpoint, keeping one timeline across it; takes KeepAlive and UpdateConfiguration silently', async () => {
    const first = syntheticPcm(1.5, 16000, 9);
    const second = syntheticPcm(1, 16000, 10);
    const run = await runAssemblyAI(v3Url(server.url), [
      ...paced(first),
      '{"type":"ForceEndpoint"}',
      '{"type":"KeepAlive"}',
      '{"type":"UpdateConfiguration","end_of_turn_confidence_threshold":0.5,"format_turns":true}',
      ...paced(second),
      TERMINATE,
    ]);
    expect(errorOf(run.messages)).toBeUndefined();
    // The flush ends the engine's utterance; the next audio's times go on from 1.5 s.
    expect(finalWords(run)).toEqual([...expectedWords(first), ...expectedWords(second, 1500)]);
    // UpdateConfiguration turned formatting on for the turns after it.
    expect(finalWords(run, true).map((w) => w.text)).toEqual(
      expectedWords(second).map((w) => `W${w.text.slice(1)}.`),
    );
    expect(run.messages.at(-1)).toMatchObject({ type: 'Termination', audio_duration_seconds: 3 });
  }, 15_000);

  it('answers Terminate with Termination alone when no audio came', async () => {
    const run = await runAssemblyAI(v3Url(server.url), [TERMINATE]);
    expect(run.messages.map((m) => m.type)).toEqual(['Begin', 'Termination']);
    expect(run.messages[1]).toMatchObject({ audio_duration_seconds: 0 });
    expect(run.closeCode).toBe(1000);
  });

  it('closes 3007 with an Error for a frame under 50 ms or over 1,000 ms', async () => {
    for (const ms of [20, 1200]) {
      const run = await runAssemblyAI(v3Url(server.url), [syntheticPcm(ms / 1000)]);
      expect(errorOf(run.messages)).toEqual({
        type: 'Error',
        error_code: 3007,
        error: `Input duration violation: ${ms} ms. Expected between 50 and 1000 ms`,
      });
      expect(run.closeCode).toBe(3007);
    }
  });

  it('closes 3007 with an Error for audio faster than real time, past a burst of 2 s', async () => {
    // 1.5 s at once is within the tolerance: the stream goes on.
    const burst = syntheticPcm(1.5, 16000, 11);
    const ok = await runAssemblyAI(v3Url(server.url), [...chunk(burst, 3200), TERMINATE]);
    expect(errorOf(ok.messages)).toBeUndefined();
    expect(ok.closeCode).toBe(1000);
    // 5 s at once is not.
    const fast = await runAssemblyAI(v3Url(server.url), chunk(syntheticPcm(5), 3200));
    const error = errorOf(fast.messages);
    expect(error).toMatchObject({ type: 'Error', error_code: 3007 });
    expect(error!.error).toMatch(
      /^Audio Transmission Rate Exceeded: Received 2\.\d sec\. audio in 0\.\d sec$/,
    );
    expect(fast.closeCode).toBe(3007);
  });

  it('refuses a query it cannot serve with an Error and close 3006, before any Begin', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ sample_rate: '' }, /sample_rate: expected a positive integer/],
      [
        { encoding: 'pcm_mulaw' },
        /encoding: "pcm_mulaw" is not supported by this server \(synthetic engine\); send pcm_s16le/,
      ],
      [{ encoding: 'mp3' }, /unknown encoding "mp3"/],
      [{ speech_model: 'nova-3' }, /speech_model: unknown model "nova-3"/],
      [{ format_turns: 'yes' }, /format_turns: expected true or false/],
      [
        { end_of_turn_confidence_threshold: '2' },
        /end_of_turn_confidence_threshold: expected a number from 0 to 1/,
      ],
      [{ keyterms_prompt: 'rxjs' }, /keyterms_prompt: expected a JSON list of strings/],
      [{ inactivity_timeout: '1' }, /inactivity_timeout: expected a number from 5 to 3600/],
    ];
    for (const [query, reason] of cases) {
      const run = await runAssemblyAI(v3Url(server.url, query), [], { awaitBegin: false });
      expect(run.messages.map((m) => m.type)).toEqual(['Error']);
      expect(run.messages[0]).toMatchObject({ error_code: 3006 });
      expect(run.messages[0]!.error).toMatch(reason);
      expect(run.closeCode).toBe(3006);
    }
    const missing = await runAssemblyAI(`${server.url}/v3/ws`, [], { awaitBegin: false });
    expect(missing.messages[0]!.error).toMatch(/sample_rate is required/);
  });

  it('accepts the parameters it cannot act on, and ones it does not know', async () => {
    const run = await runAssemblyAI(
      v3Url(server.url, {
        encoding: 'pcm_s16le',
        speech_model: 'universal-streaming-english',
        min_turn_silence: '400',
        max_turn_silence: '1280',
        end_of_turn_confidence_threshold: '0.7',
        keyterms_prompt: JSON.stringify(['rxjs', 'Vosk']),
        speaker_labels: 'true',
      }),
      [TERMINATE],
    );
    expect(run.messages.map((m) => m.type)).toEqual(['Begin', 'Termination']);
  });

  it('closes 3006 with an Error for text it cannot read: not JSON, no type, an unknown type, a bad field', async () => {
    const cases: Array<[string, string]> = [
      ['not json', 'Invalid JSON: not json'],
      ['[]', 'Invalid Message: []'],
      ['{"type":"Finalize"}', 'Invalid Message Type: Finalize'],
      [
        '{"type":"UpdateConfiguration","max_turn_silence":"long"}',
        'Invalid Message: max_turn_silence must be a number from 0 to 60000',
      ],
    ];
    for (const [text, error] of cases) {
      const run = await runAssemblyAI(v3Url(server.url), [text]);
      expect(run.messages.map((m) => m.type)).toEqual(['Begin', 'Error']);
      expect(run.messages[1]).toEqual({ type: 'Error', error_code: 3006, error });
      expect(run.closeCode).toBe(3006);
    }
  });

  it('with inactivity_timeout, KeepAlive keeps the session; silence past it ends the session as Terminate does', async () => {
    const started = performance.now();
    const run = await runAssemblyAI(v3Url(server.url, { inactivity_timeout: '5' }), [
      { waitMs: 3000 },
      '{"type":"KeepAlive"}',
    ]);
    const tookMs = performance.now() - started;
    expect(run.messages.map((m) => m.type)).toEqual(['Begin', 'Termination']);
    expect(run.closeCode).toBe(1000);
    // Ended 5 s after the KeepAlive at 3 s, not 5 s after the start.
    expect(tookMs).toBeGreaterThan(7800);
  }, 15_000);

  it('closes with 1001 on close() and leaves nothing open', async () => {
    const local = await startServer({ port: 0, engine: 'synthetic' });
    const socket = new WebSocket(v3Url(local.url));
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise((resolve) => socket.on('message', resolve));
    await eventually(() => expect(local.stats().sessions).toBe(1));
    await local.close();
    expect(await closed).toBe(1001);
    expect(local.stats().sessions).toBe(0);
  });
});

describe('AssemblyAI on the reference server: the session limit', () => {
  it('closes 3008 with an Error once a session reaches its longest life', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic', assemblyai: { maxSessionMs: 400 } });
    try {
      const run = await runAssemblyAI(v3Url(server.url), [{ waitMs: 2000 }]);
      expect(run.messages.map((m) => m.type)).toEqual(['Begin', 'Error']);
      expect(run.messages[1]).toEqual({
        type: 'Error',
        error_code: 3008,
        error: 'Session Expired: Maximum session duration exceeded',
      });
      expect(run.closeCode).toBe(3008);
    } finally {
      await server.close();
    }
  });
});

describe('AssemblyAI on the reference server: credentials', () => {
  const KEY = 'aai-server-key-0123';
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, engine: 'synthetic', apiKeys: [KEY] });
  });
  afterAll(() => server.close());

  const httpBase = (): string => server.url.replace(/^ws/, 'http');
  const mint = (query: string, key: string | null = KEY): Promise<Response> =>
    fetch(`${httpBase()}/v3/token?${query}`, { headers: key !== null ? { Authorization: key } : {} });

  it('takes the raw key in Authorization', async () => {
    const run = await runAssemblyAI(v3Url(server.url), [TERMINATE], { headers: { Authorization: KEY } });
    expect(run.messages.map((m) => m.type)).toEqual(['Begin', 'Termination']);
  });

  it('refuses a missing or unknown key with an Error and close 1008, never echoing it', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'Unauthorized Connection: Missing Authorization header'],
      [{ Authorization: 'wrong-key-9876' }, 'Unauthorized Connection: Invalid API key'],
      // AssemblyAI takes the key raw: a scheme makes it another key.
      [{ Authorization: `Bearer ${KEY}` }, 'Unauthorized Connection: Invalid API key'],
    ];
    for (const [headers, error] of cases) {
      const run = await runAssemblyAI(v3Url(server.url), [], { headers, awaitBegin: false });
      expect(run.messages).toEqual([{ type: 'Error', error_code: 1008, error }]);
      expect(run.closeCode).toBe(1008);
      expect(run.closeReason).toBe(error);
      expect(JSON.stringify(run)).not.toContain('wrong-key');
    }
  });

  it('mints single-use temporary tokens with GET /v3/token, which open a session with ?token=', async () => {
    const response = await mint('expires_in_seconds=60');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { token: string; expires_in_seconds: number };
    expect(body.expires_in_seconds).toBe(60);
    expect(body.token).toMatch(/^[0-9a-f]{64}$/);
    const run = await runAssemblyAI(v3Url(server.url, { token: body.token }), [TERMINATE]);
    expect(run.messages.map((m) => m.type)).toEqual(['Begin', 'Termination']);
    // Used once: refused the second time.
    const again = await runAssemblyAI(v3Url(server.url, { token: body.token }), [], { awaitBegin: false });
    expect(again.messages).toEqual([
      {
        type: 'Error',
        error_code: 1008,
        error: 'Unauthorized Connection: Invalid or expired temporary token',
      },
    ]);
    expect(again.closeCode).toBe(1008);
  });

  it('refuses a token past its redemption window, and a token it never minted', async () => {
    const { token } = (await (await mint('expires_in_seconds=1')).json()) as { token: string };
    await new Promise((resolve) => setTimeout(resolve, 1100));
    for (const t of [token, 'f'.repeat(64)]) {
      const run = await runAssemblyAI(v3Url(server.url, { token: t }), [], { awaitBegin: false });
      expect(run.closeCode).toBe(1008);
    }
  });

  it("limits a session to a token's max_session_duration_seconds (Begin says when)", async () => {
    const { token } = (await (
      await mint('expires_in_seconds=60&max_session_duration_seconds=600')
    ).json()) as {
      token: string;
    };
    const run = await runAssemblyAI(v3Url(server.url, { token }), [TERMINATE]);
    const expires = run.messages[0]!.expires_at as number;
    expect(Math.abs(expires - (Date.now() / 1000 + 600))).toBeLessThan(3);
  });

  it('answers GET /v3/token with 401 without the key and 400 for bad parameters, in AssemblyAI shape', async () => {
    expect((await mint('expires_in_seconds=60', null)).status).toBe(401);
    expect((await mint('expires_in_seconds=60', 'nope')).status).toBe(401);
    for (const query of [
      '',
      'expires_in_seconds=0',
      'expires_in_seconds=601',
      'expires_in_seconds=60&max_session_duration_seconds=10',
    ]) {
      const response = await mint(query);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: expect.any(String) });
    }
  });
});

describe('AssemblyAI on the reference server: past its session limits', () => {
  it('refuses with an Error and close 3009, as AssemblyAI past its concurrency limit', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic', limits: { maxSessions: 1 } });
    try {
      const first = new WebSocket(v3Url(server.url));
      await new Promise((resolve) => first.once('message', resolve));
      const run = await runAssemblyAI(v3Url(server.url), [], { awaitBegin: false });
      expect(run.messages).toHaveLength(1);
      expect(run.messages[0]).toMatchObject({ type: 'Error', error_code: 3009 });
      expect(run.messages[0]!.error).toMatch(
        /^Unauthorized Connection: Too many concurrent sessions \(server at capacity/,
      );
      expect(run.closeCode).toBe(3009);
      first.close();
    } finally {
      await server.close();
    }
  });
});
