import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { isTranscriptionError, type TranscriptionError } from '../../src/errors/transcription-error.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { openaiRealtime } from '../../src/protocols/openai-realtime.js';
import type { DecodedMessage, ProtocolCodec } from '../../src/protocols/protocol.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { scriptedOpenAI } from '../helpers/scripted-openai.js';

const MONO_24K: AudioFormat = { sampleRate: 24000, channels: 1, encoding: 'pcm_s16le' };
/** 100 ms whose samples are all `value`: the scripted peer hears the word `w{value}`. */
const frame = (value: number): AudioChunk => ({
  format: MONO_24K,
  samples: new Int16Array(2400).fill(value),
});

const json = (event: Record<string, unknown>): string => JSON.stringify(event);
const committed = (id: string, previous: string | null) =>
  json({ type: 'input_audio_buffer.committed', item_id: id, previous_item_id: previous });
const completed = (id: string, transcript: string) =>
  json({ type: 'conversation.item.input_audio_transcription.completed', item_id: id, transcript });
const delta = (id: string, text: string) =>
  json({ type: 'conversation.item.input_audio_transcription.delta', item_id: id, delta: text });
const started = (id: string, ms: number) =>
  json({ type: 'input_audio_buffer.speech_started', item_id: id, audio_start_ms: ms });
const stopped = (id: string, ms: number) =>
  json({ type: 'input_audio_buffer.speech_stopped', item_id: id, audio_end_ms: ms });
const error = (code: string, type = 'invalid_request_error', eventId: string | null = null) =>
  json({ type: 'error', error: { type, code, message: `about ${code}`, param: null, event_id: eventId } });

function codec(options: Parameters<typeof openaiRealtime>[0] = {}): ProtocolCodec {
  return openaiRealtime(options).codec();
}

function thrown(run: () => unknown): TranscriptionError {
  try {
    run();
  } catch (e) {
    if (isTranscriptionError(e)) return e;
    throw e;
  }
  throw new Error('nothing thrown');
}

describe('openaiRealtime(): the handshake', () => {
  it('connects to /v1/realtime?intent=transcription with the key as a Bearer header in Node', () => {
    const h = openaiRealtime({ apiKey: 'sk-secret' }).handshake!({ url: undefined, headersAllowed: true });
    expect(h.url).toBe('wss://api.openai.com/v1/realtime?intent=transcription');
    expect(h.headers).toEqual({ Authorization: 'Bearer sk-secret' });
    expect(h.protocols).toBeUndefined();
    expect(h.secrets).toEqual(['sk-secret']);
  });

  it('offers an ephemeral secret in the realtime and openai-insecure-api-key. subprotocols in a browser', () => {
    const h = openaiRealtime({ clientSecret: 'ek_abc' }).handshake!({
      url: undefined,
      headersAllowed: false,
    });
    expect(h.protocols).toEqual(['realtime', 'openai-insecure-api-key.ek_abc']);
    expect(h.headers).toBeUndefined();
    expect(h.secrets).toEqual(['ek_abc']);
  });

  it("takes the SDK's https base, a bare host or the url option, and always asks for a transcription session", () => {
    const url = (baseUrl: string | undefined, option?: string) =>
      openaiRealtime({ ...(baseUrl !== undefined ? { baseUrl } : {}) }).handshake!({
        url: option,
        headersAllowed: true,
      }).url;
    expect(url('https://127.0.0.1:8443/v1')).toBe('wss://127.0.0.1:8443/v1/realtime?intent=transcription');
    expect(url('ws://localhost:2700')).toBe('ws://localhost:2700/v1/realtime?intent=transcription');
    expect(url(undefined, 'ws://h:1/v1/realtime?model=gpt-realtime')).toBe(
      'ws://h:1/v1/realtime?intent=transcription',
    );
  });

  it('refuses contradictory or unusable options at once', () => {
    expect(() => openaiRealtime({ apiKey: 'a', clientSecret: 'b' })).toThrow(/not both/);
    expect(() => openaiRealtime({ apiKey: '' })).toThrow(TypeError);
    expect(() => openaiRealtime({ apiKey: 'a b' })).toThrow(TypeError);
    expect(() => openaiRealtime({ connectionLimitMs: 61 * 60_000 })).toThrow(/60 minutes/);
  });

  it('describes the protocol to the session: 24 kHz, drain credit, waits for session.updated, rotates before 60 min', () => {
    const p = openaiRealtime();
    expect(p).toMatchObject({
      sampleRate: 24000,
      credit: 'drain',
      answersAudio: false,
      endsWith: 'message',
      awaitsReady: true,
    });
    expect(p.connectionLimitMs).toBeLessThan(60 * 60_000);
  });
});

describe('openaiRealtime(): the codec', () => {
  it('sends session.update first: the transcription session with its model, language, prompt, VAD and noise reduction', () => {
    const [update] = codec({
      model: 'gpt-4o-mini-transcribe',
      language: 'en',
      prompt: 'RxJS, Vosk',
      turnDetection: { type: 'server_vad', silenceDurationMs: 700, prefixPaddingMs: 200, threshold: 0.6 },
      noiseReduction: 'far_field',
    }).start();
    expect(JSON.parse(update as string)).toEqual({
      type: 'session.update',
      session: {
        type: 'transcription',
        audio: {
          input: {
            format: { type: 'audio/pcm', rate: 24000 },
            transcription: { model: 'gpt-4o-mini-transcribe', language: 'en', prompt: 'RxJS, Vosk' },
            turn_detection: {
              type: 'server_vad',
              silence_duration_ms: 700,
              prefix_padding_ms: 200,
              threshold: 0.6,
            },
            noise_reduction: { type: 'far_field' },
          },
        },
      },
    });
    const manual = JSON.parse(codec({ turnDetection: null, noiseReduction: null }).start()[0] as string);
    expect(manual.session.audio.input.turn_detection).toBeNull();
    expect(manual.session.audio.input.noise_reduction).toBeNull();
  });

  it('encodes a frame as input_audio_buffer.append with the base64 of its bytes', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const data = codec().encodeAudio({ format: MONO_24K, samples: samples.subarray(1, 5) });
    const parsed = JSON.parse(data as string) as { type: string; audio: string };
    expect(parsed.type).toBe('input_audio_buffer.append');
    const bytes = Buffer.from(parsed.audio, 'base64');
    expect([...new Int16Array(bytes.buffer, bytes.byteOffset, 4)]).toEqual([1, -1, 32767, -32768]);
  });

  it('takes session.updated as ready, and gives each item its VAD span, its deltas as a partial, its completion as the final', () => {
    const c = codec();
    expect(c.decode(json({ type: 'session.created', session: {} }))).toEqual({ results: [] });
    expect(c.decode(json({ type: 'session.updated', session: {} })).ready).toBe(true);
    c.decode(started('a', 300));
    c.decode(stopped('a', 2100));
    c.decode(committed('a', null));
    const partial = c.decode(delta('a', 'hello'));
    expect(partial.results).toEqual([
      { type: 'partial', text: 'hello', words: [], startMs: 300, endMs: 2100, id: 'a' },
    ]);
    expect(c.decode(delta('a', ' world')).results[0]?.text).toBe('hello world');
    expect(c.decode(completed('a', ' hello world ')).results).toEqual([
      {
        type: 'final',
        text: 'hello world',
        words: [],
        startMs: 300,
        endMs: 2100,
        endOfUtterance: true,
        id: 'a',
      },
    ]);
  });

  it('gives a committed item without VAD the span from the item before to the commit point it tracked', () => {
    const c = codec({ turnDetection: null });
    c.encodeAudio(frame(1));
    c.encodeAudio(frame(2));
    c.flush!();
    c.encodeAudio(frame(3));
    c.end();
    c.decode(committed('a', null));
    c.decode(committed('b', 'a'));
    expect(c.decode(completed('a', 'one two')).results[0]).toMatchObject({ startMs: 0, endMs: 200 });
    const last = c.decode(completed('b', 'three'));
    expect(last.results[0]).toMatchObject({ startMs: 200, endMs: 300 });
    expect(last.ended).toBe(true);
  });

  it('holds a completion until its predecessor completes (out of order), then releases both in commit order', () => {
    const c = codec();
    c.decode(committed('a', null));
    c.decode(committed('b', 'a'));
    c.decode(committed('c', 'b'));
    expect(c.decode(completed('c', 'third')).results).toEqual([]);
    expect(c.decode(completed('b', 'second')).results).toEqual([]);
    expect(c.decode(completed('a', 'first')).results.map((r) => r.text)).toEqual([
      'first',
      'second',
      'third',
    ]);
  });

  it('ends once the end commit is answered and every item before it completed; an empty end commit answers too', () => {
    const c = codec();
    c.encodeAudio(frame(1));
    c.decode(started('a', 0));
    c.decode(stopped('a', 100));
    c.decode(committed('a', null));
    const [end] = c.end();
    const eventId = (JSON.parse(end as string) as { event_id: string }).event_id;
    expect(c.decode(error('input_audio_buffer_commit_empty', 'invalid_request_error', eventId))).toEqual({
      results: [],
    });
    const last = c.decode(completed('a', 'w1'));
    expect(last.ended).toBe(true);
    expect(last.results).toHaveLength(1);
  });

  it('classifies error events: expiry and rate limits retryable, keys not, anything else a protocol error', () => {
    const c = codec();
    const kind = (raw: string) => {
      const e = c.decode(raw).error!;
      return { kind: e.kind, retryable: e.retryable, message: e.message };
    };
    expect(kind(error('session_expired'))).toMatchObject({ kind: 'server', retryable: true });
    expect(kind(error('session_expired')).message).toMatch(/connectionLimitMs/);
    expect(kind(error('invalid_api_key'))).toMatchObject({ kind: 'auth', retryable: false });
    expect(kind(error('rate_limit_exceeded', 'rate_limit_error'))).toMatchObject({
      kind: 'rate-limit',
      retryable: true,
    });
    expect(kind(error('', 'server_error'))).toMatchObject({ kind: 'server', retryable: true });
    expect(kind(error('invalid_value'))).toMatchObject({ kind: 'protocol', retryable: false });
    // A commit-empty error for a commit this client never sent is not an answer.
    expect(kind(error('input_audio_buffer_commit_empty', 'invalid_request_error', 'other'))).toMatchObject({
      kind: 'protocol',
    });
    const failed = c.decode(
      json({
        type: 'conversation.item.input_audio_transcription.failed',
        item_id: 'x',
        error: { message: 'm' },
      }),
    ).error!;
    expect(failed).toMatchObject({ kind: 'server', retryable: true });
  });

  it('classifies close 3000 and refused upgrades as OpenAI words them', () => {
    const p = openaiRealtime();
    expect(p.classifyClose!(3000, 'invalid_request_error.invalid_api_key')).toEqual({
      kind: 'auth',
      retryable: false,
    });
    expect(p.classifyClose!(1001, '')).toBeUndefined();
    const body =
      '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}';
    expect(p.classifyRefusal!(401, body)).toEqual({
      kind: 'auth',
      retryable: false,
      detail: 'OpenAI says: Incorrect API key provided',
    });
    expect(
      p.classifyRefusal!(429, '{"error":{"message":"quota","code":"insufficient_quota"}}'),
    ).toMatchObject({
      kind: 'auth',
      retryable: false,
    });
    expect(p.classifyRefusal!(429, undefined)).toMatchObject({ kind: 'rate-limit', retryable: true });
    expect(p.classifyRefusal!(502, '<html>')).toBeUndefined();
  });

  it('turns malformed and contradictory messages into protocol errors that quote them', () => {
    const cases: Array<[string, RegExp, (c: ProtocolCodec) => void]> = [
      ['not json', /not JSON/, () => {}],
      [json({ item_id: 'a' }), /no "type"/, () => {}],
      [json({ type: 'input_audio_buffer.committed' }), /item_id/, () => {}],
      [
        json({ type: 'input_audio_buffer.speech_started', item_id: 'a', audio_start_ms: -5 }),
        /audio_start_ms/,
        () => {},
      ],
      [completed('ghost', 'boo'), /never committed/, () => {}],
      [delta('ghost', 'boo'), /never committed/, () => {}],
      [
        delta('a', 'late'),
        /after its completion/,
        (c) => {
          c.decode(committed('a', null));
          c.decode(completed('a', 'x'));
        },
      ],
      [
        completed('a', 'again'),
        /second completed/,
        (c) => {
          c.decode(committed('a', null));
          c.decode(completed('a', 'x'));
        },
      ],
      [committed('a', null), /committed twice/, (c) => c.decode(committed('a', null))],
      // Chains that loop: released round and round, they once grew an array until V8 aborted the process.
      [committed('a', 'a'), /after itself/, () => {}],
      [committed('b', 'a'), /would loop/, (c) => c.decode(committed('a', 'b'))],
      [
        committed('c', 'b'),
        /would loop/,
        (c) => {
          c.decode(committed('a', 'c'));
          c.decode(committed('b', 'a'));
        },
      ],
      [
        committed('c', 'a'),
        /already follows/,
        (c) => {
          c.decode(committed('a', null));
          c.decode(committed('b', 'a'));
        },
      ],
      [committed('c', 'zz'), /unknown item/, (c) => c.decode(committed('a', null))],
      [json({ type: 'error', error: 'x' }), /"error" object/, () => {}],
      [
        json({ type: 'conversation.item.input_audio_transcription.completed', item_id: 'a' }),
        /transcript/,
        () => {},
      ],
    ];
    for (const [message, pattern, setup] of cases) {
      const c = codec();
      setup(c);
      const e = thrown(() => c.decode(message));
      expect(e.kind).toBe('protocol');
      expect(e.retryable).toBe(false);
      expect(e.message).toMatch(pattern);
      expect(e.message).toContain(message.slice(0, 20));
    }
    expect(thrown(() => codec().decode(new Uint8Array([1, 2]))).message).toMatch(/binary/);
  });

  it('any message either decodes or fails with a TranscriptionError (property)', () => {
    const c = codec();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc
            .record({
              type: fc.constantFrom(
                'input_audio_buffer.committed',
                'conversation.item.input_audio_transcription.delta',
                'conversation.item.input_audio_transcription.completed',
                'input_audio_buffer.speech_started',
                'input_audio_buffer.speech_stopped',
                'error',
              ),
              item_id: fc.oneof(fc.constantFrom('a', 'b'), fc.anything()),
              previous_item_id: fc.oneof(fc.constant(null), fc.constantFrom('a', 'b'), fc.anything()),
              delta: fc.anything(),
              transcript: fc.anything(),
              audio_start_ms: fc.anything(),
              error: fc.anything(),
            })
            .map((r) => JSON.stringify(r)),
        ),
        (text) => {
          try {
            const decoded = c.decode(text);
            expect(Array.isArray(decoded.results)).toBe(true);
          } catch (e) {
            expect(isTranscriptionError(e)).toBe(true);
          }
        },
      ),
    );
  });

  it('releases items in commit order, each once, whatever order their deltas and completions come in (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray(Array.from({ length: n }, (_, i) => [`d${i}`, `c${i}`]).flat(), {
              minLength: 2 * n,
              maxLength: 2 * n,
            }),
          ),
        ),
        ([n, order]) => {
          const c = codec();
          const ids = Array.from({ length: n }, (_, i) => `item${i}`);
          for (let i = 0; i < ids.length; i++) c.decode(committed(ids[i]!, i === 0 ? null : ids[i - 1]!));
          c.end();
          c.decode(error('input_audio_buffer_commit_empty', 'invalid_request_error', 'rxjs_commit_1'));
          const finals: string[] = [];
          const completedSoFar = new Set<number>();
          let ended = 0;
          for (const step of order) {
            const i = Number(step.slice(1));
            // A delta after its item's completion is a contradiction: the peer sends deltas first.
            if (step.startsWith('d') && completedSoFar.has(i)) continue;
            const decoded: DecodedMessage = step.startsWith('d')
              ? c.decode(delta(ids[i]!, `t${i}`))
              : c.decode(completed(ids[i]!, `t${i}`));
            if (step.startsWith('c')) completedSoFar.add(i);
            for (const r of decoded.results) if (r.type === 'final') finals.push(r.text);
            if (decoded.ended === true) ended += 1;
          }
          expect(finals).toEqual(ids.map((_, i) => `t${i}`));
          expect(ended).toBe(1);
        },
      ),
    );
  });
});

describe('transcribe over OpenAI Realtime (scripted peer, virtual time)', () => {
  const run = (
    source: string,
    values: Record<string, AudioChunk>,
    peerOptions: Parameters<typeof scriptedOpenAI>[1],
    protocolOptions: Parameters<typeof openaiRealtime>[0] = {},
    extra: { flushAt?: number } = {},
  ) => {
    const test = new TestScheduler((a, b) => expect(a).toEqual(b));
    const events: TranscriptEvent[] = [];
    let failure: unknown;
    let done = false;
    let log!: ReturnType<typeof scriptedOpenAI>['log'];
    test.run(({ cold, flush }) => {
      const peer = scriptedOpenAI(test, peerOptions);
      log = peer.log;
      const t = transcribe({
        protocol: openaiRealtime({ apiKey: 'sk-k', ...protocolOptions }),
        socketFactory: peer.factory,
        scheduler: test,
        reconnect: { initialDelayMs: 10, jitter: 'none' },
        finalTimeoutMs: 2000,
      });
      if (extra.flushAt !== undefined) {
        t.sessions$.subscribe((handle) => test.schedule(() => handle.flush(), extra.flushAt));
      }
      cold(source, values)
        .pipe(t)
        .subscribe({
          next: (e) => events.push(e),
          error: (e: unknown) => (failure = e),
          complete: () => (done = true),
        });
      flush();
    });
    return { events, error: failure, completed: done, log };
  };
  const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), frame(i + 1)]));
  const finals = (events: TranscriptEvent[]) => events.filter((e) => e.type === 'final');
  const finalWords = (events: TranscriptEvent[]) =>
    finals(events).flatMap((e) => e.text.split(' ').filter(Boolean));

  it('with server VAD: update first, audio after session.updated, finals on one timeline, ends on the end commit', () => {
    const { events, error, completed, log } = run('-0-1-2-3-4|', ten, {});
    expect(error).toBeUndefined();
    expect(completed).toBe(true);
    expect(finalWords(events)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5']);
    const types = log.sent[0]!.map((m) => (JSON.parse(m as string) as { type: string }).type);
    expect(types[0]).toBe('session.update');
    expect(types.at(-1)).toBe('input_audio_buffer.commit');
    expect(types.filter((t) => t === 'input_audio_buffer.append')).toHaveLength(5);
    // Spans: contiguous items of 200 ms, the last one (the end's commit) 100 ms.
    expect(finals(events).map((e) => [e.startMs, e.endMs])).toEqual([
      [0, 200],
      [200, 400],
      [400, 500],
    ]);
    expect(finals(events).every((e) => e.endOfUtterance && typeof e.id === 'string')).toBe(true);
    expect(events.some((e) => e.type === 'partial')).toBe(true);
  });

  it('with completions out of order, the finals still come in commit order', () => {
    const { events, error, completed } = run('-0-1-2-3-4-5-6-7|', ten, { swapCompletions: true });
    expect(error).toBeUndefined();
    expect(completed).toBe(true);
    expect(finalWords(events)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8']);
  });

  it('without turn detection: one item at the end commit, and one more per flush()', () => {
    const { events, error, completed, log } = run(
      '-0-1-2-3-4|',
      ten,
      { vad: false },
      { turnDetection: null },
      { flushAt: 5 },
    );
    expect(error).toBeUndefined();
    expect(completed).toBe(true);
    expect(finalWords(events)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5']);
    expect(finals(events).length).toBe(2);
    const commits = log.sent[0]!.filter((m) => (m as string).includes('input_audio_buffer.commit'));
    expect(commits).toHaveLength(2);
  });

  it('a dropped connection: the unfinalised audio is resent, items land on one timeline, no word lost or doubled', () => {
    const { events, error, completed, log } = run('-0-1-2-3-4-5-6-7-8-9|', ten, {
      dropAt: [{ frame: 5, code: 1006 }],
    });
    expect(error).toBeUndefined();
    expect(completed).toBe(true);
    expect(log.opened).toHaveLength(2);
    expect(finalWords(events)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9', 'w10']);
    const spans = finals(events).map((e) => [e.startMs, e.endMs]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]!);
    expect(spans.at(-1)![1]).toBe(1000);
  });

  it('a server that never answers the end commit: a bounded wait, then a timeout error, not a hang', () => {
    const { error, completed } = run('-0-1|', ten, { silentEnd: true });
    expect(completed).toBe(false);
    expect(isTranscriptionError(error)).toBe(true);
    expect((error as TranscriptionError).kind).toBe('timeout');
  });
});
