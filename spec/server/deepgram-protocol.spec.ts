import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { NET_0001_REASON } from '../../src/server/deepgram/deepgram-session.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { expectedSyntheticWords, syntheticPcm, wavHeader } from '../helpers/audio.js';
import {
  alternative,
  CLOSE_STREAM,
  type DeepgramMessage,
  type DeepgramRun,
  FINALIZE,
  finals,
  finalWords,
  KEEP_ALIVE,
  listenUrl,
  refusedUpgrade,
  results,
  runDeepgram,
} from '../helpers/deepgram-client.js';
import { activeResources, eventually, leakable } from '../helpers/resources.js';
import { speechPattern, vadEngine } from '../helpers/vad-engine.js';
import { CONFIG_16K, chunk, EOF, runClient } from '../helpers/vosk-client.js';

const RAW = { encoding: 'linear16', sample_rate: '16000' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ port: 0, engine: 'synthetic', maxFrameBytes: 64 * 1024 });
});
afterAll(async () => {
  await server.close();
});

const pcm = syntheticPcm(3.3);
const expected = expectedSyntheticWords(pcm);

/** Each final starts where the previous one ended, from 0. */
function expectContiguous(messages: readonly DeepgramMessage[]): void {
  let end = 0;
  for (const final of messages) {
    expect(final.start as number).toBeCloseTo(end, 6);
    end = (final.start as number) + (final.duration as number);
  }
}

function metadataOf(run: DeepgramRun): DeepgramMessage {
  const metadata = run.messages.filter((m) => m.type === 'Metadata');
  expect(metadata).toHaveLength(1);
  return metadata[0]!;
}

describe('Deepgram /v1/listen, messages (synthetic engine)', () => {
  it('gives finals in Deepgram shape, then on CloseStream the last final, Metadata and close 1000', async () => {
    const run = await runDeepgram(listenUrl(server.url, { ...RAW, model: 'nova-3' }), [
      ...chunk(pcm, 3200),
      CLOSE_STREAM,
    ]);
    expect(run.closeCode).toBe(1000);
    // No interim results unless asked for: finals only, then the summary last.
    expect(run.messages.map((m) => m.type)).toEqual(['Results', 'Results', 'Results', 'Results', 'Metadata']);
    expect(results(run).every((m) => m.is_final === true)).toBe(true);
    expect(finalWords(run).map((w) => [w.word, w.start, w.end, w.confidence])).toEqual(
      expected.map((w) => [w.word, w.start, w.end, 1]),
    );
    const first = run.messages[0]!;
    const requestId = (first.metadata as { request_id: string }).request_id;
    expect(requestId).toMatch(UUID);
    expect(run.headers['dg-request-id']).toBe(requestId);
    expect(first).toEqual({
      type: 'Results',
      channel_index: [0, 1],
      duration: 1,
      start: 0,
      is_final: true,
      speech_final: true,
      from_finalize: false,
      channel: {
        alternatives: [
          {
            transcript: expected[0]!.word,
            confidence: 1,
            words: [{ word: expected[0]!.word, start: 0, end: 1, confidence: 1 }],
          },
        ],
      },
      metadata: {
        request_id: requestId,
        model_info: { name: 'synthetic', version: '1', arch: 'rxjs-transcribe' },
        model_uuid: expect.stringMatching(UUID),
      },
    });
    expectContiguous(finals(run));
    const last = finals(run).at(-1)!;
    expect(last.duration as number).toBeCloseTo(0.3, 6);
    expect(last.from_finalize).toBe(false);
    const metadata = run.messages.at(-1)!;
    const uuid = (first.metadata as { model_uuid: string }).model_uuid;
    expect(metadata).toEqual({
      type: 'Metadata',
      transaction_key: 'deprecated',
      request_id: requestId,
      sha256: createHash('sha256').update(pcm).digest('hex'),
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      duration: 3.3,
      channels: 1,
      models: [uuid],
      model_info: { [uuid]: { name: 'synthetic', version: '1', arch: 'rxjs-transcribe' } },
    });
    expect(Math.abs(Date.parse(metadata.created as string) - Date.now())).toBeLessThan(10_000);
  });

  it('adds punctuated_word (the word as it is) when punctuate or smart_format is asked for', async () => {
    const queries: Array<Record<string, string>> = [{ punctuate: 'true' }, { smart_format: 'true' }];
    for (const query of queries) {
      const run = await runDeepgram(listenUrl(server.url, { ...RAW, ...query }), [
        pcm.subarray(0, 32000),
        CLOSE_STREAM,
      ]);
      expect(finalWords(run)[0]).toEqual({
        word: expected[0]!.word,
        start: 0,
        end: 1,
        confidence: 1,
        punctuated_word: expected[0]!.word,
      });
    }
  });

  it('restarts times at 0 on every connection', async () => {
    const first = await runDeepgram(listenUrl(server.url, RAW), [pcm.subarray(0, 64000), CLOSE_STREAM]);
    const second = await runDeepgram(listenUrl(server.url, RAW), [pcm.subarray(0, 64000), CLOSE_STREAM]);
    for (const run of [first, second]) {
      expect(finals(run)[0]!.start).toBe(0);
      expect(finalWords(run).map((w) => w.start)).toEqual([0, 1]);
    }
    expect(metadataOf(first).request_id).not.toBe(metadataOf(second).request_id);
  });

  it('answers Finalize with a final marked from_finalize, and keeps one timeline across it', async () => {
    const head = pcm.subarray(0, 48000); // 1.5 s
    const tail = pcm.subarray(48000, 80000); // 1.0 s more
    const run = await runDeepgram(listenUrl(server.url, RAW), [
      ...chunk(head, 3200),
      FINALIZE,
      ...chunk(tail, 3200),
      CLOSE_STREAM,
    ]);
    expect(run.closeCode).toBe(1000);
    const all = finals(run);
    expect(all.map((m) => m.from_finalize)).toEqual([false, true, false, false]);
    expectContiguous(all);
    expect(all.map((m) => m.duration)).toEqual([1, 0.5, 1, 0]);
    // The flush ends the engine session; the next starts where it ended, at 1.5 s.
    const words = finalWords(run);
    expect(words.map((w) => w.word)).toEqual([
      ...expectedSyntheticWords(head).map((w) => w.word),
      ...expectedSyntheticWords(tail).map((w) => w.word),
    ]);
    expect(words.map((w) => [w.start, w.end])).toEqual([
      [0, 1],
      [1, 1.5],
      [1.5, 2.5],
    ]);
    expect(all[1]!.speech_final).toBe(false);
    expect(metadataOf(run).duration).toBe(2.5);
  });

  it('answers Finalize with an empty final when there is nothing to flush', async () => {
    const run = await runDeepgram(listenUrl(server.url, RAW), [FINALIZE, CLOSE_STREAM]);
    expect(run.messages.map((m) => [m.type, m.from_finalize])).toEqual([
      ['Results', true],
      ['Metadata', undefined],
    ]);
    expect(alternative(run.messages[0]!)).toEqual({ transcript: '', confidence: 0, words: [] });
  });

  it('sends only Metadata on CloseStream when no audio came, without models', async () => {
    const run = await runDeepgram(listenUrl(server.url, RAW), [CLOSE_STREAM]);
    expect(run.closeCode).toBe(1000);
    expect(run.messages).toEqual([
      {
        type: 'Metadata',
        transaction_key: 'deprecated',
        request_id: expect.stringMatching(UUID),
        sha256: createHash('sha256').digest('hex'),
        created: expect.any(String),
        duration: 0,
        channels: 1,
      },
    ]);
  });

  it('ends the stream on an empty binary frame, as Deepgram did before CloseStream', async () => {
    const run = await runDeepgram(listenUrl(server.url, RAW), [pcm.subarray(0, 32000), Buffer.alloc(0)]);
    expect(run.closeCode).toBe(1000);
    expect(run.messages.map((m) => m.type)).toEqual(['Results', 'Results', 'Metadata']);
  });

  it('ignores what comes after CloseStream', async () => {
    const run = await runDeepgram(listenUrl(server.url, RAW), [
      CLOSE_STREAM,
      pcm.subarray(0, 32000),
      FINALIZE,
    ]);
    expect(run.messages.map((m) => m.type)).toEqual(['Metadata']);
  });

  it('joins samples split across frames of odd sizes', async () => {
    const run = await runDeepgram(listenUrl(server.url, RAW), [...chunk(pcm, 999), CLOSE_STREAM]);
    expect(finalWords(run).map((w) => w.word)).toEqual(expected.map((w) => w.word));
  });

  it('reads a WAV file sent as it is when no encoding is given, taking its rate from the header', async () => {
    const pcm8k = syntheticPcm(2.5, 8000);
    const wav = Buffer.concat([wavHeader(pcm8k.length, 8000), pcm8k]);
    const run = await runDeepgram(listenUrl(server.url), [...chunk(wav, 7), CLOSE_STREAM]);
    expect(run.closeCode).toBe(1000);
    expect(finalWords(run).map((w) => [w.word, w.end])).toEqual(
      expectedSyntheticWords(pcm8k, 8000).map((w) => [w.word, w.end]),
    );
    expect(metadataOf(run).duration).toBe(2.5);
    expect(metadataOf(run).sha256).toBe(createHash('sha256').update(wav).digest('hex'));
  });
});

describe('Deepgram /v1/listen, interim results and events (test engine with a toy VAD)', () => {
  let vad: RunningServer;
  beforeAll(async () => {
    vad = await startServer({ port: 0, engine: vadEngine });
  });
  afterAll(async () => {
    await vad.close();
  });
  // 0.5 s silence, 1.0 s "speech", 1.5 s silence, 0.5 s speech, 0.5 s silence.
  const audio = speechPattern([
    { voiced: false, seconds: 0.5 },
    { voiced: true, seconds: 1 },
    { voiced: false, seconds: 1.5 },
    { voiced: true, seconds: 0.5 },
    { voiced: false, seconds: 0.5 },
  ]);

  it('sends interims from the last final, finals with speech_final, SpeechStarted and UtteranceEnd', async () => {
    const query = { ...RAW, interim_results: 'true', vad_events: 'true', utterance_end_ms: '1000' };
    const run = await runDeepgram(listenUrl(vad.url, query), [...chunk(audio, 3200), CLOSE_STREAM]);
    expect(run.closeCode).toBe(1000);
    const summary = run.messages.map((m) => {
      if (m.type === 'Results') {
        const kind = m.is_final ? (m.speech_final ? 'final!' : 'final') : 'interim';
        return `${kind} ${alternative(m).transcript || '-'} ${m.start}+${m.duration}`;
      }
      if (m.type === 'SpeechStarted') return `speech ${m.timestamp}`;
      if (m.type === 'UtteranceEnd') return `end ${m.last_word_end}`;
      return m.type;
    });
    expect(summary).toEqual([
      'speech 0.5', // the frame that brought the first partial started at 0.5 s
      'interim w1 0+0.6',
      'interim w1 0+1.6', // nothing new for 1 s of audio: an interim all the same
      'final! w1 0+1.8', // 0.3 s of silence after 1.5 s ends it
      'end 1.5', // at 2.5 s: 1 s after the last word's end, with no speech since
      'interim - 1.8+1',
      'speech 3',
      'interim w2 1.8+1.3',
      'final! w2 1.8+2', // contiguous with the previous final
      'final - 3.8+0.2', // CloseStream flushes what is left
      'Metadata',
    ]);
  });

  it('sends no UtteranceEnd when speech resumes within utterance_end_ms', async () => {
    const speech = speechPattern([
      { voiced: false, seconds: 0.2 },
      { voiced: true, seconds: 0.5 }, // w1 ends at 0.7
      { voiced: false, seconds: 0.6 }, // w2 starts 0.6 s later: within the gap
      { voiced: true, seconds: 0.5 }, // w2 ends at 1.8
      { voiced: false, seconds: 1.5 },
    ]);
    const run = await runDeepgram(listenUrl(vad.url, { ...RAW, utterance_end_ms: '1000' }), [
      ...chunk(speech, 3200),
      CLOSE_STREAM,
    ]);
    expect(run.messages.filter((m) => m.type === 'UtteranceEnd')).toEqual([
      { type: 'UtteranceEnd', channel: [0, 1], last_word_end: 1.8 },
    ]);
  });

  it('omits speech_final with endpointing=false, and interims unless asked for', async () => {
    const run = await runDeepgram(listenUrl(vad.url, { ...RAW, endpointing: 'false' }), [
      ...chunk(audio, 3200),
      CLOSE_STREAM,
    ]);
    expect(results(run).map((m) => [alternative(m).transcript, m.is_final, m.speech_final])).toEqual([
      ['w1', true, false],
      ['w2', true, false],
      ['', true, false],
    ]);
  });

  it('flushes the utterance in progress on Finalize', async () => {
    const speech = speechPattern([
      { voiced: false, seconds: 0.2 },
      { voiced: true, seconds: 0.6 },
    ]);
    const run = await runDeepgram(listenUrl(vad.url, RAW), [...chunk(speech, 3200), FINALIZE, CLOSE_STREAM]);
    expect(finals(run).map((m) => [alternative(m).transcript, m.from_finalize, m.start, m.duration])).toEqual(
      [['w1', true, 0, 0.8]],
    );
    expect(finalWords(run)).toEqual([{ word: 'w1', start: 0.2, end: 0.8, confidence: 0.5 }]);
  });
});

describe('Deepgram /v1/listen, client messages and timeouts', () => {
  it('takes KeepAlive without a reply, and it keeps the connection past the idle timeout', async () => {
    const local = await startServer({ port: 0, engine: 'synthetic', deepgramIdleTimeoutMs: 300 });
    try {
      const keepAlives = Array.from({ length: 6 }, () => [KEEP_ALIVE, { waitMs: 150 }]).flat();
      const run = await runDeepgram(listenUrl(local.url, RAW), [...keepAlives, CLOSE_STREAM]);
      expect(run.closeCode).toBe(1000);
      expect(run.messages.map((m) => m.type)).toEqual(['Metadata']);
    } finally {
      await local.close();
    }
  });

  it('sends Metadata then closes 1011 with NET-0001 after the idle timeout, as Deepgram', async () => {
    const local = await startServer({ port: 0, engine: 'synthetic', deepgramIdleTimeoutMs: 200 });
    try {
      const started = performance.now();
      const silent = await runDeepgram(listenUrl(local.url, RAW), []);
      expect(performance.now() - started).toBeGreaterThanOrEqual(190);
      expect(silent.closeCode).toBe(1011);
      expect(silent.closeReason).toBe(NET_0001_REASON);
      expect(silent.closeReason).toMatch(/net0001/i);
      expect(silent.messages.map((m) => m.type)).toEqual(['Metadata']);
      // After audio too: the clock restarts with every message.
      const quiet = await runDeepgram(listenUrl(local.url, RAW), [pcm.subarray(0, 32000)]);
      expect(quiet.closeCode).toBe(1011);
      expect(quiet.messages.map((m) => m.type)).toEqual(['Results', 'Metadata']);
      expect(quiet.messages[1]!.duration).toBe(1);
      expect(local.stats().closedWithError[1011]).toBe(2);
    } finally {
      await local.close();
    }
  });

  it('answers text it cannot read with an Error (SchemaError), and the stream goes on', async () => {
    const run = await runDeepgram(listenUrl(server.url, RAW), [
      '{"type": "KeepAlive "}',
      'not json',
      '{"hello": 1}',
      pcm.subarray(0, 32000),
      JSON.stringify({ type: 'Configure', keyterms: ['rxjs'] }),
      CLOSE_STREAM,
    ]);
    expect(run.closeCode).toBe(1000);
    const errors = run.messages.filter((m) => m.type === 'Error');
    expect(errors).toHaveLength(3);
    expect(errors[0]).toEqual({
      type: 'Error',
      variant: 'SchemaError',
      description:
        'Could not deserialize last text message: unknown variant `KeepAlive `, expected one of `CloseStream`, `Configure`, `Sync`, `KeepAlive`, `Finalize`',
      message: '{"type": "KeepAlive "}',
    });
    expect(errors[1]!.message).toBe('not json');
    expect(errors[2]!.description).toMatch(/missing field `type`/);
    expect(run.messages.map((m) => m.type).slice(3)).toEqual(['Results', 'Results', 'Metadata']);
  });

  it('closes 1008 with DATA-0000 for audio it cannot decode: no encoding and not a WAV file', async () => {
    const run = await runDeepgram(listenUrl(server.url), [pcm.subarray(0, 3200)]);
    expect(run.closeCode).toBe(1008);
    expect(run.closeReason).toMatch(/^DATA-0000/);
    expect(run.closeReason).toMatch(/encoding=linear16/);
    const stereo = await runDeepgram(listenUrl(server.url), [wavHeader(100, 16000, 2), Buffer.alloc(100)]);
    expect(stereo.closeCode).toBe(1008);
    expect(stereo.closeReason).toMatch(/DATA-0000.*stereo/);
  });

  it('closes 1009 for a frame over the size limit', async () => {
    const run = await runDeepgram(listenUrl(server.url, RAW), [Buffer.alloc(64 * 1024 + 2)]);
    expect(run.closeCode).toBe(1009);
    expect(run.closeReason).toMatch(/over the limit of 65536/);
  });
});

describe('Deepgram /v1/listen, handshake: refusals and credentials', () => {
  it('refuses a query it cannot serve with HTTP 400 and a body in Deepgram shape', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ encoding: 'mulaw', sample_rate: '8000' }, /encoding "mulaw" is not supported/],
      [{ encoding: 'mp7' }, /unknown encoding "mp7"/],
      [{ ...RAW, channels: '2' }, /channels=2/],
      [{ encoding: 'linear16', sample_rate: '4000' }, /sample_rate=4000 .*8000 to 192000/],
      [{ ...RAW, sample_rate: 'fast' }, /sample_rate must be a whole number/],
      [{ ...RAW, interim_results: 'maybe' }, /interim_results must be true or false/],
      [{ ...RAW, endpointing: 'soon' }, /endpointing must be false or a whole number/],
    ];
    for (const [query, reason] of cases) {
      const refusal = await refusedUpgrade(listenUrl(server.url, query));
      expect(refusal.status).toBe(400);
      expect(refusal.headers['content-type']).toBe('application/json');
      const body = JSON.parse(refusal.body) as Record<string, string>;
      expect(Object.keys(body)).toEqual(['err_code', 'err_msg', 'request_id']);
      expect(body.err_code).toBe('Bad Request');
      expect(body.err_msg).toMatch(/^Bad Request: /);
      expect(body.err_msg).toMatch(reason);
      expect(body.request_id).toMatch(UUID);
      expect(refusal.headers['dg-request-id']).toBe(body.request_id);
      expect(refusal.headers['dg-error']).toBe(body.err_msg);
    }
  });

  it('accepts the parameters it cannot act on, and ones it does not know', async () => {
    const query = {
      ...RAW,
      channels: '1',
      model: 'nova-3',
      language: 'en-US',
      keyterm: 'rxjs',
      smart_format: 'true',
      punctuate: 'false',
      endpointing: '300',
      utterance_end_ms: '1000',
      diarize: 'true',
      no_such_param: 'x',
    };
    const run = await runDeepgram(listenUrl(server.url, query), [CLOSE_STREAM]);
    expect(run.closeCode).toBe(1000);
  });

  describe('with API keys', () => {
    let keyed: RunningServer;
    beforeAll(async () => {
      keyed = await startServer({ port: 0, engine: 'synthetic', apiKeys: ['key-one', 'key-two'] });
    });
    afterAll(async () => {
      await keyed.close();
    });

    it('refuses missing or unknown credentials with HTTP 401 INVALID_AUTH, never echoing them', async () => {
      const attempts = [
        {},
        { headers: { Authorization: 'Token wrong-key-123' } },
        { headers: { Authorization: 'key-one' } }, // no scheme: Deepgram refuses it too
        { protocols: ['token', 'wrong-key-123'] },
        { headers: { Authorization: 'Basic a2V5LW9uZQ==' } },
      ];
      for (const attempt of attempts) {
        const refusal = await refusedUpgrade(listenUrl(keyed.url, RAW), attempt);
        expect(refusal.status).toBe(401);
        const body = JSON.parse(refusal.body) as Record<string, string>;
        expect(body).toEqual({
          err_code: 'INVALID_AUTH',
          err_msg: 'Invalid credentials.',
          request_id: expect.stringMatching(UUID),
        });
        expect(refusal.body).not.toMatch(/wrong-key|key-one/);
        expect(JSON.stringify(refusal.headers)).not.toMatch(/wrong-key|key-one/);
      }
    });

    it('checks credentials before the query, as Deepgram', async () => {
      const refusal = await refusedUpgrade(listenUrl(keyed.url, { encoding: 'mulaw' }));
      expect(refusal.status).toBe(401);
    });

    it('takes a key as Token or Bearer, or in the subprotocols, and selects token or bearer', async () => {
      const ways: Array<[{ headers?: Record<string, string>; protocols?: string[] }, string]> = [
        [{ headers: { Authorization: 'Token key-one' } }, ''],
        [{ headers: { Authorization: 'token key-two' } }, ''],
        [{ headers: { Authorization: 'Bearer key-one' } }, ''],
        [{ protocols: ['token', 'key-two'] }, 'token'],
        [{ protocols: ['bearer', 'key-one'] }, 'bearer'],
      ];
      for (const [options, protocol] of ways) {
        const run = await runDeepgram(
          listenUrl(keyed.url, RAW),
          [pcm.subarray(0, 32000), CLOSE_STREAM],
          options,
        );
        expect(run.closeCode).toBe(1000);
        expect(run.protocol).toBe(protocol);
        expect(finalWords(run)).toHaveLength(1);
      }
    });

    it("guards the Vosk paths with the same keys, in the Vosk way (?token= or Bearer), not Deepgram's", async () => {
      const refused = await runClient(keyed.url, [CONFIG_16K, pcm.subarray(0, 32000), EOF]);
      expect(refused).toMatchObject({ replies: [], closeCode: 1006 });
      const run = await runClient(`${keyed.url}/?token=key-two`, [CONFIG_16K, pcm.subarray(0, 32000), EOF]);
      expect(run.closeCode).toBe(1000);
    });
  });

  it('without keys takes any credentials, and still selects the token subprotocol', async () => {
    const run = await runDeepgram(listenUrl(server.url, RAW), [CLOSE_STREAM], {
      protocols: ['token', 'anything'],
    });
    expect(run.closeCode).toBe(1000);
    expect(run.protocol).toBe('token');
  });

  it('speaks Vosk on every other path, selecting the first subprotocol as before', async () => {
    for (const path of ['/', '/v1/listen/more', '/v2/listen', '/v1/listening']) {
      const run = await runClient(`${server.url}${path}`, [CONFIG_16K, pcm.subarray(0, 32000), EOF]);
      expect(run.closeCode).toBe(1000);
      expect(run.replies.at(-1)).toHaveProperty('text');
    }
    const protocol = await new Promise<string>((resolve, reject) => {
      const socket = new WebSocket(server.url, ['token', 'x']);
      socket.on('open', () => {
        resolve(socket.protocol);
        socket.close();
      });
      socket.on('error', reject);
    });
    expect(protocol).toBe('token');
  });

  it('serves /v1/listen/ with a trailing slash as /v1/listen', async () => {
    const run = await runDeepgram(`${server.url}/v1/listen/?encoding=linear16&sample_rate=16000`, [
      CLOSE_STREAM,
    ]);
    expect(run.messages.map((m) => m.type)).toEqual(['Metadata']);
  });
});

describe('Deepgram /v1/listen, flow and shutdown', () => {
  it('stops reading the socket while audio waits (realtime), keeping its queue bounded', async () => {
    const local = await startServer({ port: 0, engine: 'synthetic', realtime: 100 });
    try {
      const long = syntheticPcm(300); // 9.6 MB, consumed over 3 s at 100x
      const started = performance.now();
      const run = await runDeepgram(listenUrl(local.url, RAW), [...chunk(long, 3200), CLOSE_STREAM]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(2_900);
      expect(run.closeCode).toBe(1000);
      expect(finalWords(run).map((w) => w.word)).toEqual(expectedSyntheticWords(long).map((w) => w.word));
      expect(local.stats().peakQueuedBytes).toBeLessThan(256 * 1024);
      expect(local.stats().audioBytes).toBe(long.length);
    } finally {
      await local.close();
    }
  });

  it('closes open Deepgram sessions with 1001 on close() and leaves nothing behind', async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = leakable(activeResources());
    const local = await startServer({ port: 0, engine: 'synthetic' });
    const runs = Array.from({ length: 3 }, () =>
      runDeepgram(listenUrl(local.url, RAW), [pcm.subarray(0, 3200)]),
    );
    await eventually(() => expect(local.stats().sessions).toBe(3));
    await local.close();
    expect((await Promise.all(runs)).map((run) => run.closeCode)).toEqual([1001, 1001, 1001]);
    await eventually(() => expect(leakable(activeResources())).toEqual(before));
  });
});
