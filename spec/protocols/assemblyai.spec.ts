import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { isTranscriptionError, type TranscriptionError } from '../../src/errors/transcription-error.js';
import { type TranscribeOptions, transcribe } from '../../src/operators/transcribe.js';
import { assemblyai } from '../../src/protocols/assemblyai.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { scriptedAssemblyAI } from '../helpers/scripted-assemblyai.js';

const MONO_16K: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
/** 100 ms whose samples are all `value`: the scripted peer hears the word `w{value}`. */
const frame = (value: number, samples = 1600): AudioChunk => ({
  format: MONO_16K,
  samples: new Int16Array(samples).fill(value),
});

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const codec = (formatTurns = false) => assemblyai({ formatTurns }).codec();

const turn = (
  fields: Record<string, unknown>,
  words: unknown[] = [{ text: 'hi', start: 100, end: 400, confidence: 0.9, word_is_final: true }],
) =>
  JSON.stringify({
    type: 'Turn',
    turn_order: 2,
    turn_is_formatted: false,
    end_of_turn: true,
    transcript: 'hi',
    end_of_turn_confidence: 0.8,
    words,
    ...fields,
  });

describe('assemblyai(): the handshake', () => {
  it('puts the configuration in the query string, and the raw key in Authorization in Node', () => {
    const protocol = assemblyai({
      apiKey: 'aai-secret-key',
      speechModel: 'universal-streaming-english',
      formatTurns: true,
      minTurnSilence: 400,
      maxTurnSilence: 1280,
      endOfTurnConfidenceThreshold: 0.7,
      keytermsPrompt: ['rxjs', 'Vosk'],
      inactivityTimeout: 30,
      query: { speaker_labels: true },
    });
    const handshake = protocol.handshake!({ url: undefined, headersAllowed: true });
    const url = new URL(handshake.url);
    expect(`${url.origin}${url.pathname}`).toBe('wss://streaming.assemblyai.com/v3/ws');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      sample_rate: '16000',
      encoding: 'pcm_s16le',
      speech_model: 'universal-streaming-english',
      format_turns: 'true',
      min_turn_silence: '400',
      max_turn_silence: '1280',
      end_of_turn_confidence_threshold: '0.7',
      keyterms_prompt: '["rxjs","Vosk"]',
      inactivity_timeout: '30',
      speaker_labels: 'true',
    });
    expect(handshake.headers).toEqual({ Authorization: 'aai-secret-key' });
    expect(handshake.protocols).toBeUndefined();
    expect(handshake.secrets).toEqual(['aai-secret-key']);
    expect(handshake.safeQueryParams).toContain('speech_model');
    expect(handshake.safeQueryParams).not.toContain('token');
  });

  it('sends a temporary token as ?token= (browsers and Node alike), and refuses a key in a browser', () => {
    for (const headersAllowed of [true, false]) {
      const handshake = assemblyai({ token: 'temp-token-1' }).handshake!({ url: undefined, headersAllowed });
      expect(new URL(handshake.url).searchParams.get('token')).toBe('temp-token-1');
      expect(handshake.headers).toBeUndefined();
      expect(handshake.secrets).toEqual(['temp-token-1']);
    }
    expect(() => assemblyai({ apiKey: 'k' }).handshake!({ url: undefined, headersAllowed: false })).toThrow(
      /a browser cannot send an API key.*GET \/v3\/token.*token/,
    );
  });

  it('takes a base URL (http turned into ws, the path added to a bare host) or the url option', () => {
    const at = (baseUrl: string | undefined, url?: string) =>
      new URL(
        assemblyai({ ...(baseUrl !== undefined ? { baseUrl } : {}) }).handshake!({
          url,
          headersAllowed: true,
        }).url,
      );
    expect(at('https://streaming.eu.assemblyai.com').toString()).toMatch(
      /^wss:\/\/streaming\.eu\.assemblyai\.com\/v3\/ws\?/,
    );
    expect(at('ws://127.0.0.1:2700').pathname).toBe('/v3/ws');
    expect(at('ws://127.0.0.1:2700/custom/path').pathname).toBe('/custom/path');
    expect(at(undefined, 'ws://localhost:9/v3/ws').host).toBe('localhost:9');
  });

  it('rejects contradictory or out-of-range options with a clear error', () => {
    expect(() => assemblyai({ apiKey: 'a', token: 'b' })).toThrow(/apiKey or token, not both/);
    expect(() => assemblyai({ apiKey: '' })).toThrow(/apiKey must be a non-empty string/);
    expect(() => assemblyai({ inactivityTimeout: 2 })).toThrow(/inactivityTimeout must be 5 to 3,600/);
    expect(() => assemblyai({ endOfTurnConfidenceThreshold: 1.5 })).toThrow(/from 0 to 1/);
    expect(() => assemblyai({ sampleRate: 0 })).toThrow(/sampleRate/);
  });

  it('declares what the session must do for AssemblyAI: drain credit, real time, Begin, 50-1,000 ms frames, 3 h', () => {
    const p = assemblyai();
    expect(p).toMatchObject({
      credit: 'drain',
      answersAudio: false,
      endsWith: 'message',
      awaitsReady: true,
      realtime: true,
      frameLimitsMs: { min: 50, max: 1000 },
      connectionLimitMs: 3 * 60 * 60 * 1000,
    });
    expect(p.keepAlive).toBeUndefined();
    // With inactivity_timeout, KeepAlive well inside it.
    expect(assemblyai({ inactivityTimeout: 6 }).keepAlive).toEqual({
      message: '{"type":"KeepAlive"}',
      idleMs: 2000,
    });
  });
});

describe('assemblyai(): the codec', () => {
  it('reads Begin as ready, Termination as the end, and passes over other message types', () => {
    const c = codec();
    expect(c.decode('{"type":"Begin","id":"x","expires_at":1}')).toEqual({ results: [], ready: true });
    expect(
      c.decode('{"type":"Termination","audio_duration_seconds":1,"session_duration_seconds":1}'),
    ).toEqual({
      results: [],
      ended: true,
    });
    for (const type of ['SpeechStarted', 'Warning', 'Heartbeat', 'Silence', 'SomethingNew']) {
      expect(c.decode(JSON.stringify({ type }))).toEqual({ results: [] });
    }
    expect(c.start()).toEqual([]);
    expect(c.flush!()).toEqual(['{"type":"ForceEndpoint"}']);
    expect(c.end()).toEqual(['{"type":"Terminate"}']);
  });

  it('reads partial turns as partials and end-of-turn turns as finals, word times in ms', () => {
    const c = codec();
    expect(c.decode(turn({ end_of_turn: false, transcript: 'hi ' })).results).toEqual([
      {
        type: 'partial',
        text: 'hi',
        words: [{ text: 'hi', startMs: 100, endMs: 400, confidence: 0.9 }],
        id: '2',
      },
    ]);
    expect(c.decode(turn({})).results).toEqual([
      {
        type: 'final',
        text: 'hi',
        words: [{ text: 'hi', startMs: 100, endMs: 400, confidence: 0.9 }],
        endOfUtterance: true,
        id: '2',
      },
    ]);
  });

  it('with formatTurns, takes the formatted copy of a turn as its one final and skips the other', () => {
    const c = codec(true);
    expect(c.decode(turn({ turn_is_formatted: false }))).toEqual({ results: [] });
    const formatted = c.decode(
      turn({ turn_is_formatted: true, transcript: 'Hi.' }, [{ text: 'Hi.', start: 100, end: 400 }]),
    );
    expect(formatted.results).toEqual([
      {
        type: 'final',
        text: 'Hi.',
        words: [{ text: 'Hi.', startMs: 100, endMs: 400 }],
        endOfUtterance: true,
        id: '2',
      },
    ]);
    // Without formatTurns, both would be finals: the option decides which is taken.
    expect(codec(false).decode(turn({ turn_is_formatted: false })).results).toHaveLength(1);
  });

  it('with formatTurns, an end of turn whose formatted copy never comes is emitted before what follows, not lost', () => {
    const c = codec(true);
    expect(c.decode(turn({ turn_order: 4 })).results).toEqual([]);
    // The next turn's partial comes instead of the formatted copy of turn 4.
    const next = c.decode(turn({ turn_order: 5, end_of_turn: false, transcript: 'and' }));
    expect(next.results.map((r) => [r.type, r.id])).toEqual([
      ['final', '4'],
      ['partial', '5'],
    ]);
    // And at the end, Termination brings a held one out.
    expect(c.decode(turn({ turn_order: 5 })).results).toEqual([]);
    const end = c.decode('{"type":"Termination","audio_duration_seconds":1,"session_duration_seconds":1}');
    expect(end.ended).toBe(true);
    expect(end.results.map((r) => [r.type, r.id])).toEqual([['final', '5']]);
  });

  it('reads an Error message as a classified TranscriptionError', () => {
    const cases: Array<[number, string, string, boolean]> = [
      [3005, 'Session Cancelled: An error occurred', 'server', true],
      [3006, 'Invalid Message Type: Foo', 'protocol', false],
      [3007, 'Input duration violation: 20 ms. Expected between 50 and 1000 ms', 'protocol', false],
      [3007, 'Audio Transmission Rate Exceeded: Received 9 sec. audio in 3 sec', 'rate-limit', true],
      [3008, 'Session Expired: Maximum session duration exceeded', 'timeout', true],
      [3009, 'Unauthorized Connection: Too many concurrent sessions', 'rate-limit', true],
      [1008, 'Unauthorized Connection: Invalid API key', 'auth', false],
      [1008, 'Unauthorized Connection: Too many concurrent sessions', 'rate-limit', true],
    ];
    for (const [code, text, kind, retryable] of cases) {
      const { error } = codec().decode(JSON.stringify({ type: 'Error', error_code: code, error: text }));
      expect(error, text).toMatchObject({ kind, retryable, closeCode: code });
      expect(error!.message).toBe(`the AssemblyAI server reported an error ${code}: ${text}`);
    }
    const unknown = codec().decode('{"type":"Error","error":"something"}').error!;
    expect(unknown).toMatchObject({ kind: 'server', retryable: true });
  });

  it('turns malformed messages into protocol errors that quote them', () => {
    for (const bad of [
      'not json',
      '[]',
      '{"no":"type"}',
      turn({ transcript: 3 }),
      turn({ end_of_turn: 'yes' }),
      turn({ turn_order: -1 }),
      turn({ words: {} }),
      turn({}, [{ text: 'x', start: 0 }]),
      turn({}, [{ text: 'x', start: 0, end: 1, confidence: 'high' }]),
      '{"type":"Error","error_code":3005}',
      '{"type":"Error","error_code":"3005","error":"x"}',
    ]) {
      expect(() => codec().decode(bad), bad).toThrow(
        /AssemblyAI server sent a message this client cannot read/,
      );
    }
    expect(() => codec().decode(new Uint8Array(3))).toThrow(/binary/);
  });

  it('any message either decodes or fails with a TranscriptionError (property)', () => {
    const c = codec(true);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ type: 'Turn', ...Object(v) })),
          fc.jsonValue().map((v) => JSON.stringify({ type: 'Error', ...Object(v) })),
        ),
        (text) => {
          try {
            const decoded = c.decode(text);
            expect(Array.isArray(decoded.results)).toBe(true);
          } catch (error) {
            expect(isTranscriptionError(error)).toBe(true);
          }
        },
      ),
    );
  });

  it('classifies close codes and refusals as AssemblyAI documents them', () => {
    const p = assemblyai();
    expect(p.classifyClose!(3005, '')).toEqual({ kind: 'server', retryable: true });
    expect(p.classifyClose!(3006, 'Invalid JSON: x')).toEqual({ kind: 'protocol', retryable: false });
    expect(p.classifyClose!(3007, 'Input duration violation: 1200 ms')).toEqual({
      kind: 'protocol',
      retryable: false,
    });
    expect(p.classifyClose!(3007, 'Audio Transmission Rate Exceeded')).toEqual({
      kind: 'rate-limit',
      retryable: true,
    });
    expect(p.classifyClose!(3008, '')).toEqual({ kind: 'timeout', retryable: true });
    expect(p.classifyClose!(3009, '')).toEqual({ kind: 'rate-limit', retryable: true });
    expect(p.classifyClose!(1008, 'Unauthorized Connection: Missing Authorization header')).toEqual({
      kind: 'auth',
      retryable: false,
    });
    expect(p.classifyClose!(1001, '')).toBeUndefined();
    expect(p.classifyRefusal!(401, '{"error":"Invalid API key"}')).toEqual({
      kind: 'auth',
      retryable: false,
      detail: 'AssemblyAI says: Invalid API key',
    });
    expect(p.classifyRefusal!(400, undefined)).toEqual({ kind: 'protocol', retryable: false });
    expect(p.classifyRefusal!(503, '<html>')).toBeUndefined();
  });
});

describe('transcribe over AssemblyAI (scripted peer, virtual time)', () => {
  const run = (
    source: string,
    values: Record<string, AudioChunk>,
    peerOptions: Parameters<typeof scriptedAssemblyAI>[1],
    protocolOptions: Parameters<typeof assemblyai>[0] = {},
    extra: Partial<TranscribeOptions> = {},
  ) => {
    const test = scheduler();
    const events: TranscriptEvent[] = [];
    let error: TranscriptionError | undefined;
    let completed = false;
    let log!: ReturnType<typeof scriptedAssemblyAI>['log'];
    test.run(({ cold, flush }) => {
      const peer = scriptedAssemblyAI(test, peerOptions);
      log = peer.log;
      const t = transcribe({
        protocol: assemblyai({ apiKey: 'k', ...protocolOptions }),
        socketFactory: peer.factory,
        scheduler: test,
        reconnect: { initialDelayMs: 10, jitter: 'none' },
        ...extra,
      });
      cold(source, values)
        .pipe(t)
        .subscribe({
          next: (e) => events.push(e),
          error: (e: TranscriptionError) => (error = e),
          complete: () => (completed = true),
        });
      flush();
    });
    return { events, error, completed, log };
  };
  const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), frame(i + 1)]));
  const audioTimes = (log: { sent: unknown[][]; sentAt: number[][] }, connection = 0) =>
    log.sent[connection]!.flatMap((m, i) => (typeof m === 'string' ? [] : [log.sentAt[connection]![i]!]));
  const finalTexts = (events: TranscriptEvent[]) =>
    events.filter((e) => e.type === 'final').map((e) => e.text);

  it('waits for Begin, paces audio at real time, and completes on Termination', () => {
    // The whole file at once, as a file source gives it.
    const { events, error, completed, log } = run('(0123456789|)', ten, { beginAfterMs: 500 });
    expect(error).toBeUndefined();
    expect(completed).toBe(true);
    expect(finalTexts(events)).toEqual(['w1 w2 w3', 'w4 w5 w6', 'w7 w8 w9', 'w10']);
    const times = audioTimes(log);
    expect(times[0]).toBeGreaterThanOrEqual(log.beganAt[0]!);
    // One 100 ms frame every 100 ms, not all at once.
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[0]!).toBe(i * 100);
    expect(log.sent[0]!.at(-1)).toBe('{"type":"Terminate"}');
    expect(log.opened[0]!.options.headers).toEqual({ Authorization: 'k' });
    // Partials from partial turns, finals on one timeline in ms.
    expect(events.some((e) => e.type === 'partial')).toBe(true);
    const finals = events.filter((e) => e.type === 'final');
    expect(finals.map((e) => e.startMs)).toEqual([0, 300, 600, 900]);
    expect(finals.every((e) => e.endOfUtterance)).toBe(true);
  });

  it('with formatTurns, one final per turn: the formatted one', () => {
    const { events, completed } = run('(012345|)', ten, {}, { formatTurns: true });
    expect(completed).toBe(true);
    expect(finalTexts(events)).toEqual(['W1 W2 W3', 'W4 W5 W6']);
  });

  it('clamps frameMs into 50-1,000 ms, and pads the last frame up to 50 ms', () => {
    const short = run('(0123|)', ten, {}, {}, { frameMs: 20 });
    const sizes = (log: typeof short.log) =>
      log.sent[0]!.filter((m): m is Uint8Array => typeof m !== 'string').map((m) => m.byteLength / 2);
    expect(new Set(sizes(short.log))).toEqual(new Set([800]));
    const long = run('(0123456789|)', ten, {}, {}, { frameMs: 5000, windowMs: 5000 });
    expect(sizes(long.log)).toEqual([16000]);
    // 130 ms at 100 ms frames: 100 ms, then 30 ms padded to 50.
    const odd = run('(0|)', { 0: frame(1, 2080) }, {});
    expect(sizes(odd.log)).toEqual([1600, 800]);
  });

  it('a dropped connection: the unfinalised audio is resent, times restart at 0 and land on one timeline, no word lost or doubled', () => {
    const { events, error, completed, log } = run('(0123456789|)', ten, {
      failAt: [
        { frame: 5, code: 1006 },
        { frame: 4, code: 3005, error: 'Session Cancelled: An error occurred' },
      ],
    });
    expect(error).toBeUndefined();
    expect(completed).toBe(true);
    expect(log.sent.length).toBe(3);
    const words = events.filter((e) => e.type === 'final').flatMap((e) => e.words);
    expect(words.map((w) => w.text)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9', 'w10']);
    expect(words.map((w) => w.startMs)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    // The second connection starts with the audio the first had not settled: the last turn's
    // final ended at w3's end (290 ms), so from frame 3; w3, heard again, is not doubled.
    const firstAudio = log.sent[1]!.find((m) => typeof m !== 'string') as Uint8Array;
    expect(new Int16Array(firstAudio.buffer, firstAudio.byteOffset, 1)[0]).toBe(3);
  });

  it('3009 (too many sessions) is retried; 1008 (unauthorised) fails at once with an auth error, the key not in it', () => {
    const busy = run('(012|)', ten, {
      failAt: [{ frame: 1, code: 3009, error: 'Unauthorized Connection: Too many concurrent sessions' }],
    });
    expect(busy.error).toBeUndefined();
    expect(finalTexts(busy.events)).toEqual(['w1 w2 w3']);
    const denied = run(
      '(012|)',
      ten,
      {
        failAt: [{ frame: 1, code: 1008, error: 'Unauthorized Connection: Invalid API key' }],
      },
      { apiKey: 'aai-secret-key-42' },
    );
    expect(denied.log.sent.length).toBe(1);
    expect(denied.error).toMatchObject({ kind: 'auth', retryable: false });
    expect(denied.error!.message).toMatch(/Invalid API key/);
    expect(JSON.stringify({ ...denied.error, message: denied.error!.message })).not.toContain(
      'aai-secret-key-42',
    );
  });

  it('a server that never sends Begin: no audio goes, and the connection fails after connectTimeoutMs', () => {
    const { error, log } = run(
      '(012|)',
      ten,
      { beginAfterMs: false },
      {},
      { reconnect: false, connectTimeoutMs: 1000 },
    );
    expect(log.sent[0]!.filter((m) => typeof m !== 'string')).toEqual([]);
    expect(isTranscriptionError(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect(error!.message).toMatch(/did not say it was ready for audio within 1000 ms/);
  });

  it('a server that never answers Terminate: a bounded wait, then a timeout error, not a hang', () => {
    const { error, completed, events } = run(
      '(012|)',
      ten,
      { termination: false },
      {},
      { reconnect: false, finalTimeoutMs: 2000 },
    );
    expect(completed).toBe(false);
    expect(finalTexts(events)).toEqual(['w1 w2 w3']);
    expect(error).toMatchObject({ kind: 'timeout' });
  });

  it('sends KeepAlive while the audio pauses when inactivityTimeout is set', () => {
    const { log, completed } = run(`0 ${'7000ms'} 1|`, ten, {}, { inactivityTimeout: 6 });
    expect(completed).toBe(true);
    const keepAlives = log.sent[0]!.filter((m) => m === '{"type":"KeepAlive"}');
    expect(keepAlives.length).toBeGreaterThanOrEqual(2);
  });
});
