import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { AudioChunk, AudioFormat } from '../../src/audio/audio-format.js';
import { transcribe } from '../../src/operators/transcribe.js';
import { VOSK_EOF, vosk } from '../../src/protocols/vosk.js';
import type { SocketFactory } from '../../src/transport/socket-driver.js';
import { scriptedVosk } from '../helpers/scripted-socket.js';

const MONO_16K: AudioFormat = { sampleRate: 16000, channels: 1, encoding: 'pcm_s16le' };
const ms100: AudioChunk = { format: MONO_16K, samples: new Int16Array(1600) };
const FINAL = JSON.stringify({
  result: [
    { word: 'hello', start: 0.1, end: 0.15, conf: 0.9 },
    { word: 'world', start: 0.15, end: 0.3, conf: 0.8 },
  ],
  text: 'hello world',
});

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('transcribe (marbles, against a scripted Vosk peer)', () => {
  it('sends config, then frame by frame, then EOF; emits partials as they change and completes after the final', () => {
    const test = scheduler();
    test.run(({ cold, expectObservable, flush }) => {
      const peer = scriptedVosk(test, { final: FINAL });
      // Audio starts when the socket opens (frame 1): chunks at 3, 7, 11; the end at 15.
      const audio = cold('---a---b---c---|', { a: ms100, b: ms100, c: ms100 });
      const result = audio.pipe(transcribe({ url: 'ws://test', socketFactory: peer.factory }));
      expectObservable(result).toBe('----x---y---z---(f|)', {
        x: { type: 'partial', text: 'w1', startMs: 0, endMs: 100, words: [] },
        y: { type: 'partial', text: 'w1 w2', startMs: 0, endMs: 200, words: [] },
        z: { type: 'partial', text: 'w1 w2 w3', startMs: 0, endMs: 300, words: [] },
        f: {
          type: 'final',
          endOfUtterance: true,
          text: 'hello world',
          startMs: 100,
          endMs: 300,
          words: [
            { text: 'hello', startMs: 100, endMs: 150, confidence: 0.9 },
            { text: 'world', startMs: 150, endMs: 300, confidence: 0.8 },
          ],
        },
      });
      flush();
      expect(peer.log.sent[0]).toBe('{"config":{"sample_rate":16000,"words":true}}');
      expect(peer.log.sent.slice(1, 4).map((m) => (m as Uint8Array).byteLength)).toEqual([3200, 3200, 3200]);
      expect(peer.log.sent[4]).toBe(VOSK_EOF);
      expect(peer.log.sent).toHaveLength(5);
    });
  });

  it('sends no more than the window ahead of the server: each reply frees room for the next frame', () => {
    const test = scheduler();
    test.run(({ cold, expectObservable, flush }) => {
      const peer = scriptedVosk(test, { replyAfter: 3, reply: () => '{"partial": ""}' });
      // Five frames at once, a window of two: they leave two by two as replies come back.
      const result = cold('-(abcde|)', { a: ms100, b: ms100, c: ms100, d: ms100, e: ms100 }).pipe(
        transcribe({ url: 'ws://test', socketFactory: peer.factory, windowMs: 200 }),
      );
      expectObservable(result).toBe('----------|');
      flush();
      expect(peer.log.sent.map((m) => (typeof m === 'string' ? m.slice(0, 8) : m.byteLength))).toEqual([
        '{"config',
        3200,
        3200,
        3200,
        3200,
        3200,
        VOSK_EOF.slice(0, 8),
      ]);
      expect(peer.log.sentAt).toEqual([1, 1, 1, 4, 4, 7, 7]);
    });
  });

  it('holds frames while the socket is over its high-water mark and goes on as it drains', () => {
    const test = scheduler();
    test.run(({ cold, flush }) => {
      const peer = scriptedVosk(test, { sentAfter: 4, replyAfter: 1, reply: () => '{"partial": ""}' });
      const frames = Array.from({ length: 6 }, () => ms100);
      const audio = cold('-(abcdef|)', Object.fromEntries(frames.map((f, i) => ['abcdef'[i]!, f])));
      audio
        .pipe(
          transcribe({ url: 'ws://test', socketFactory: peer.factory, windowMs: 1000, highWaterBytes: 6400 }),
        )
        .subscribe();
      flush();
      // 3,200-byte frames against 6,400 bytes: two in the socket at a time, the rest as they drain.
      const audioSends = peer.log.sentAt.filter((_, i) => typeof peer.log.sent[i] !== 'string');
      expect(audioSends).toEqual([1, 1, 5, 5, 9, 9]);
    });
  });

  it('reads the socket buffer about once per half high-water mark of audio, and never sends past the mark', () => {
    const test = scheduler();
    test.run(({ cold, flush }) => {
      const peer = scriptedVosk(test, { sentAfter: 20, replyAfter: 1, reply: () => '{"partial": ""}' });
      let reads = 0;
      const heldAtSend: number[] = [];
      const factory: SocketFactory = (url, options, handlers) => {
        const inner = peer.factory(url, options, handlers);
        return {
          send(data, onSent) {
            if (typeof data !== 'string') heldAtSend.push(inner.bufferedAmount);
            inner.send(data, onSent);
          },
          get bufferedAmount() {
            reads += 1;
            return inner.bufferedAmount;
          },
          close: (code, reason) => inner.close(code, reason),
          terminate: () => inner.terminate(),
        };
      };
      // 40 frames of 3,200 bytes at once: 130 KB against a 64 KiB mark, draining 20 ms after each send.
      const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN';
      const audio = cold(`-(${letters}|)`, Object.fromEntries([...letters].map((l) => [l, ms100])));
      audio.pipe(transcribe({ url: 'ws://test', socketFactory: factory, windowMs: 10_000 })).subscribe();
      flush();
      expect(heldAtSend).toHaveLength(40);
      // A frame goes only while the socket holds less than the mark (it may then pass it by one frame).
      for (const held of heldAtSend) expect(held).toBeLessThan(64 * 1024);
      // A read per frame is 42 here. The first 32 KiB go on one read; over half the mark, where
      // the socket's real level decides, each frame reads it.
      expect(reads).toBeLessThanOrEqual(24);
      expect(reads).toBeGreaterThan(0);
    });
  });

  it('keeps audio pushed while the socket is still connecting, and sends it once open', () => {
    const test = scheduler();
    test.run(({ hot, expectObservable, flush }) => {
      const peer = scriptedVosk(test, { openAfter: 5, reply: (n) => JSON.stringify({ partial: `p${n}` }) });
      // A hot source (a microphone): its audio at 1 and 2 comes before the socket opens at 5.
      const mic = hot('-ab-------|', { a: ms100, b: ms100 });
      expectObservable(mic.pipe(transcribe({ url: 'ws://test', socketFactory: peer.factory }))).toBe(
        '------(xy)-|',
        {
          x: { type: 'partial', text: 'p1', startMs: 0, endMs: 100, words: [] },
          y: { type: 'partial', text: 'p2', startMs: 0, endMs: 200, words: [] },
        },
      );
      flush();
      expect(peer.log.sentAt.slice(1, 3)).toEqual([5, 5]);
    });
  });

  it('does not repeat a partial the server repeats, and drops empty finals', () => {
    const test = scheduler();
    test.run(({ cold, expectObservable }) => {
      const replies = ['{"partial": "hi"}', '{"partial": "hi"}', '{"text": ""}', '{"partial": ""}'];
      const peer = scriptedVosk(test, { reply: (n) => replies[n - 1]! });
      const result = cold('--abcd|', { a: ms100, b: ms100, c: ms100, d: ms100 }).pipe(
        transcribe({ url: 'ws://test', socketFactory: peer.factory }),
      );
      expectObservable(result).toBe('---x---|', {
        x: { type: 'partial', text: 'hi', startMs: 0, endMs: 100, words: [] },
      });
    });
  });

  it('errors with the close code and reason when the server closes mid-stream', () => {
    const test = scheduler();
    test.run(({ cold, expectObservable }) => {
      const peer = scriptedVosk(test, { closeAt: { frame: 2, code: 1011, reason: 'engine crashed' } });
      const result = cold('--a-b-c|', { a: ms100, b: ms100, c: ms100 }).pipe(
        transcribe({ url: 'ws://test', socketFactory: peer.factory, reconnect: false }),
      );
      expectObservable(result).toBe(
        '---x-#',
        { x: expect.objectContaining({ text: 'w1' }) },
        expect.objectContaining({
          name: 'TranscriptionError',
          closeCode: 1011,
          kind: 'server',
          retryable: true,
          message: 'server closed with 1011: engine crashed',
        }),
      );
    });
  });

  it('fails the session, not the process, when the protocol cannot encode a frame', () => {
    const test = scheduler();
    test.run(({ cold, expectObservable, flush }) => {
      const peer = scriptedVosk(test);
      const base = vosk();
      const protocol = {
        ...base,
        codec: () => {
          const codec = base.codec();
          return {
            start: () => codec.start(),
            end: () => codec.end(),
            decode: (data: string | Uint8Array) => codec.decode(data),
            encodeAudio(): never {
              throw new Error('no encoder for this frame');
            },
          };
        },
      };
      const result = cold('--a-b|', { a: ms100, b: ms100 }).pipe(
        transcribe({ url: 'ws://test', socketFactory: peer.factory, protocol, reconnect: false }),
      );
      expectObservable(result).toBe(
        '--#',
        undefined,
        expect.objectContaining({
          name: 'TranscriptionError',
          retryable: false,
          message: 'the vosk adapter or the socket failed to send: no encoder for this frame',
        }),
      );
      flush();
      // The socket was closed, not left open.
      expect(peer.log.closedWith).toBe(1000);
    });
  });

  it('closes the socket with 1000 and stops the audio when unsubscribed', () => {
    const test = scheduler();
    test.run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const peer = scriptedVosk(test);
      const audio = cold('--a-a-a-a-a-a|', { a: ms100 });
      const result = audio.pipe(transcribe({ url: 'ws://test', socketFactory: peer.factory }));
      expectObservable(result, '^------!').toBe('---x-y-', {
        x: expect.objectContaining({ text: 'w1' }),
        y: expect.objectContaining({ text: 'w1 w2' }),
      });
      expectSubscriptions(audio.subscriptions).toBe('^------!');
      flush();
      expect(peer.log.closedWith).toBe(1000);
    });
  });

  it('rejects a URL that is not ws:// or wss://, and bad durations', () => {
    expect(() => transcribe({ url: 'http://localhost:2700' })).toThrow(/ws:\/\/ or wss:\/\//);
    expect(() => transcribe({ url: 'ws://x', frameMs: 0 })).toThrow(RangeError);
  });
});
