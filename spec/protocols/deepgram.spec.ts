import fc from 'fast-check';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { isTranscriptionError } from '../../src/errors/transcription-error.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { deepgram } from '../../src/protocols/deepgram.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { scriptedDeepgram } from '../helpers/scripted-deepgram.js';

const MONO_16K: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
/** 100 ms whose samples are all `value`: the scripted peer hears the word `w{value}`. */
const frame = (value: number): AudioChunk => ({
  format: MONO_16K,
  samples: new Int16Array(1600).fill(value),
});

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const results = (fields: Record<string, unknown>, words: unknown[] = [], transcript = 'hi there') =>
  JSON.stringify({
    type: 'Results',
    channel_index: [0, 1],
    start: 1.5,
    duration: 1,
    is_final: true,
    speech_final: false,
    channel: { alternatives: [{ transcript, confidence: 0.9, words }] },
    metadata: { request_id: 'r', model_info: { name: 'n', version: 'v', arch: 'a' }, model_uuid: 'u' },
    ...fields,
  });

describe('deepgram(): the handshake', () => {
  it('puts the configuration in the query string, and the key in a header in Node', () => {
    const protocol = deepgram({
      apiKey: 'dg-secret-key',
      model: 'nova-3',
      language: 'en-US',
      endpointing: 300,
      utteranceEndMs: 1000,
      smartFormat: true,
      keyterms: ['rxjs', 'Vosk'],
      query: { diarize: true, redact: ['pci', 'ssn'] },
    });
    const handshake = protocol.handshake!({ url: undefined, headersAllowed: true });
    const url = new URL(handshake.url);
    expect(`${url.origin}${url.pathname}`).toBe('wss://api.deepgram.com/v1/listen');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      encoding: 'linear16',
      sample_rate: '16000',
      channels: '1',
      model: 'nova-3',
      language: 'en-US',
      interim_results: 'true',
      endpointing: '300',
      utterance_end_ms: '1000',
      smart_format: 'true',
      diarize: 'true',
    });
    expect(url.searchParams.getAll('keyterm')).toEqual(['rxjs', 'Vosk']);
    expect(url.searchParams.getAll('redact')).toEqual(['pci', 'ssn']);
    expect(handshake.headers).toEqual({ Authorization: 'Token dg-secret-key' });
    expect(handshake.protocols).toBeUndefined();
    expect(handshake.secrets).toEqual(['dg-secret-key']);
  });

  it('offers the key as subprotocols in a browser, and a token as bearer', () => {
    const key = deepgram({ apiKey: 'k1' }).handshake!({ url: undefined, headersAllowed: false });
    expect(key.protocols).toEqual(['token', 'k1']);
    expect(key.headers).toBeUndefined();
    const jwt = deepgram({ accessToken: 'eyJ.jwt' }).handshake!({ url: undefined, headersAllowed: false });
    expect(jwt.protocols).toEqual(['bearer', 'eyJ.jwt']);
    const node = deepgram({ accessToken: 'eyJ.jwt' }).handshake!({ url: undefined, headersAllowed: true });
    expect(node.headers).toEqual({ Authorization: 'Bearer eyJ.jwt' });
  });

  it('takes a base URL (EU, self-hosted, http turned into ws) or the url option, adding the path to a bare host', () => {
    const at = (base: string | undefined, url?: string) =>
      new URL(
        deepgram(base !== undefined ? { baseUrl: base } : {}).handshake!({ url, headersAllowed: true }).url,
      );
    expect(at('https://api.eu.deepgram.com').href).toMatch(/^wss:\/\/api\.eu\.deepgram\.com\/v1\/listen\?/);
    expect(at('http://127.0.0.1:8080').href).toMatch(/^ws:\/\/127\.0\.0\.1:8080\/v1\/listen\?/);
    expect(at(undefined, 'ws://dg.internal/custom/listen').pathname).toBe('/custom/listen');
  });

  it('refuses contradictory or unusable credentials at once', () => {
    expect(() => deepgram({ apiKey: 'a', accessToken: 'b' })).toThrow(/apiKey or accessToken/);
    expect(() => deepgram({ apiKey: '' })).toThrow(/non-empty/);
    expect(() => deepgram({ keepAliveMs: 12_000 })).toThrow(/10 s/);
  });

  it('never shows the key: a refused connection names the URL with the key nowhere', () => {
    const protocol = deepgram({ apiKey: 'dg-secret-key', query: { callback: 'https://me?token=abc' } });
    const t = transcribe({ protocol, url: 'ws://127.0.0.1:9/v1/listen', reconnect: false });
    return new Promise<void>((resolve) => {
      t(new Subject<AudioChunk>()).subscribe({
        error: (error: Error) => {
          expect(error.message).not.toContain('dg-secret-key');
          expect(error.message).not.toContain('abc');
          // Deepgram's own parameters stay readable; any other query value is hidden.
          expect(error.message).toContain(
            '/v1/listen?encoding=linear16&sample_rate=16000&channels=1&interim_results=true&callback=***',
          );
          resolve();
        },
      });
    });
  });
});

describe('deepgram(): reading messages', () => {
  const codec = () => deepgram().codec();

  it('reads a final with its words, span, speech_final and punctuated words', () => {
    const decoded = codec().decode(
      results({ speech_final: true }, [
        { word: 'hi', punctuated_word: 'Hi', start: 1.6, end: 1.9, confidence: 0.95 },
        { word: 'there', start: 2.0, end: 2.4, confidence: 0.9 },
      ]),
    );
    expect(decoded.results).toEqual([
      {
        type: 'final',
        text: 'hi there',
        startMs: 1500,
        endMs: 2500,
        endOfUtterance: true,
        words: [
          { text: 'Hi', startMs: 1600, endMs: 1900, confidence: 0.95 },
          { text: 'there', startMs: 2000, endMs: 2400, confidence: 0.9 },
        ],
      },
    ]);
  });

  it('reads interim results as partials, Metadata as the end, UtteranceEnd as a mark, and passes over SpeechStarted', () => {
    const c = codec();
    expect(c.decode(results({ is_final: false })).results[0]).toMatchObject({ type: 'partial', endMs: 2500 });
    expect(c.decode('{"type":"Metadata","request_id":"r","duration":2.5,"channels":1}')).toEqual({
      results: [],
      ended: true,
    });
    expect(c.decode('{"type":"UtteranceEnd","channel":[0,1],"last_word_end":2.43}').utteranceEndMs).toBe(
      2430,
    );
    expect(
      c.decode('{"type":"UtteranceEnd","channel":[0,1],"last_word_end":-1}').utteranceEndMs,
    ).toBeUndefined();
    expect(c.decode('{"type":"SpeechStarted","channel":[0,1],"timestamp":1.2}')).toEqual({ results: [] });
  });

  it('turns malformed messages into protocol errors that quote them', () => {
    for (const bad of [
      'not json',
      '[]',
      '{"no":"type"}',
      results({ start: 'soon' }),
      results({ channel: { alternatives: [] } }),
      results({}, [{ word: 'x', start: 0 }]),
      results({}, [{ word: 'x', start: 0, end: 1, confidence: 'high' }]),
      '{"type":"UtteranceEnd","last_word_end":"x"}',
    ]) {
      expect(() => codec().decode(bad), bad).toThrow(/Deepgram server sent a message/);
    }
    expect(() => codec().decode(new Uint8Array(3))).toThrow(/binary/);
  });

  it('any message either decodes or fails with a TranscriptionError (property)', () => {
    const c = codec();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ type: 'Results', ...Object(v) })),
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

  it('classifies close codes and refusals as Deepgram documents them', () => {
    const p = deepgram();
    expect(p.classifyClose!(1008, 'DATA-0000: the payload cannot be decoded')).toEqual({
      kind: 'bad-audio',
      retryable: false,
    });
    expect(p.classifyClose!(1011, 'NET-0001: no audio received')).toEqual({
      kind: 'timeout',
      retryable: true,
    });
    expect(p.classifyClose!(1001, '')).toBeUndefined();
    expect(
      p.classifyRefusal!(
        401,
        '{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials.","request_id":"x"}',
      ),
    ).toEqual({
      kind: 'auth',
      retryable: false,
      detail: 'Deepgram says: Invalid credentials. (INVALID_AUTH)',
    });
    expect(p.classifyRefusal!(400, '{"err_code":"Bad Request","err_msg":"bad model"}')).toMatchObject({
      kind: 'protocol',
      retryable: false,
    });
    expect(p.classifyRefusal!(402, undefined)).toMatchObject({ kind: 'auth', retryable: false });
    expect(p.classifyRefusal!(429, '<html>')).toBeUndefined();
  });
});

describe('transcribe over Deepgram (scripted peer, virtual time)', () => {
  const run = (
    source: string,
    values: Record<string, AudioChunk>,
    peerOptions: Parameters<typeof scriptedDeepgram>[1],
    extra: { flushAt?: number } = {},
  ) => {
    const test = scheduler();
    const events: TranscriptEvent[] = [];
    let error: unknown;
    let completed = false;
    let log!: ReturnType<typeof scriptedDeepgram>['log'];
    test.run(({ cold, flush }) => {
      const peer = scriptedDeepgram(test, peerOptions);
      log = peer.log;
      const t = transcribe({
        protocol: deepgram({ apiKey: 'k' }),
        socketFactory: peer.factory,
        scheduler: test,
        reconnect: { initialDelayMs: 10, jitter: 'none' },
      });
      if (extra.flushAt !== undefined) {
        t.sessions$.subscribe((handle) => test.schedule(() => handle.flush(), extra.flushAt));
      }
      cold(source, values)
        .pipe(t)
        .subscribe({
          next: (e) => events.push(e),
          error: (e: unknown) => (error = e),
          complete: () => (completed = true),
        });
      flush();
    });
    return { events, error, completed, log };
  };
  const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), frame(i + 1)]));

  it('streams, finalises, and completes on CloseStream, Metadata and close 1000', () => {
    const { events, error, completed, log } = run('-0-1-2-3-4|', ten, {});
    expect(error).toBeUndefined();
    expect(completed).toBe(true);
    const finals = events.filter((e) => e.type === 'final');
    expect(finals.map((e) => e.text)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5']);
    expect(finals.map((e) => e.startMs)).toEqual([0, 100, 200, 300, 400]);
    expect(finals.map((e) => e.endOfUtterance)).toEqual([false, false, true, false, false]);
    expect(log.sent[0]!.at(-1)).toBe('{"type":"CloseStream"}');
    expect(log.opened[0]!.options.headers).toEqual({ Authorization: 'Token k' });
  });

  it('a dropped connection: the unfinalised audio is resent, times restart at 0 and land on one timeline, no word lost or doubled', () => {
    const { events, error, completed, log } = run('-0-1-2-3-4-5-6-7-8-9|', ten, {
      dropAt: [
        { frame: 5, code: 1006 },
        { frame: 4, code: 1011, reason: 'NET-0000' },
      ],
      lag: 2,
    });
    expect(error).toBeUndefined();
    expect(completed).toBe(true);
    expect(log.sent.length).toBe(3);
    const finals = events.filter((e) => e.type === 'final');
    expect(finals.map((e) => e.text)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9', 'w10']);
    expect(finals.map((e) => e.startMs)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(finals.map((e) => e.words[0]!.endMs)).toEqual([90, 190, 290, 390, 490, 590, 690, 790, 890, 990]);
    // The second connection starts with the audio the first had not finalised (frames 3 to 5).
    const firstAudio = log.sent[1]!.find((m) => typeof m !== 'string') as Uint8Array;
    expect(new Int16Array(firstAudio.buffer, firstAudio.byteOffset, 1)[0]).toBe(3);
  });

  it('sends KeepAlive while the audio pauses, and none while it flows', () => {
    const source = `-0-1 ${'7000ms'} 2|`;
    const { log, completed } = run(source, ten, {});
    expect(completed).toBe(true);
    const keepAlives = log.sent[0]!.flatMap((m, i) =>
      m === '{"type":"KeepAlive"}' ? [log.sentAt[0]![i]!] : [],
    );
    // 7 s of pause, KeepAlive after 3 s without audio, checked every second: two of them.
    expect(keepAlives.length).toBe(2);
    for (const at of keepAlives) expect(at).toBeGreaterThan(3000);
  });

  it('flush() sends Finalize after the audio handed over before it', () => {
    const { log } = run('-0-1-2-----3|', ten, {}, { flushAt: 7 });
    const messages = log.sent[0]!.map((m) => (typeof m === 'string' ? m : 'audio'));
    expect(messages.slice(0, 4)).toEqual(['audio', 'audio', 'audio', '{"type":"Finalize"}']);
  });

  it('a server that never completes its answer to CloseStream: retried, then a timeout error, not a hang', () => {
    const { events, error, completed, log } = run('-0-1|', ten, { metadata: false });
    expect(completed).toBe(false);
    expect(events.filter((e) => e.type === 'final').map((e) => e.text)).toEqual(['w1', 'w2']);
    // Each connection after the first has nothing to resend: CloseStream, silence, and no progress.
    expect(log.sent.length).toBe(9);
    expect(log.sent[1]).toEqual(['{"type":"CloseStream"}']);
    expect(error).toMatchObject({ kind: 'timeout' });
    expect((error as Error).message).toMatch(
      /no reply from the server for 10000 ms with end-of-stream awaiting one.*gave up after 9 connections/,
    );
  });
});
