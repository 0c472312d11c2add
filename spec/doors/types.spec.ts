// Type test: each door hands a TypeScript user the event types without a cast.
// `tsc --noEmit` (npm run check) checks it; the `@ts-expect-error` lines fail
// the check if what they stop ever compiles.
import { describe, expectTypeOf, it } from 'vitest';
import {
  type AudioChunk,
  type FinalEvent,
  isFinal,
  type TranscribeStats,
  type Transcript,
  type TranscriptEvent,
  TranscriptionStream,
  type TranscriptionStreamInput,
  type TranscriptWord,
  transcribeFile,
  transcribeStream,
} from '../../src/index.js';

const url = 'ws://127.0.0.1:9';

describe('types of the doors (checked by tsc)', () => {
  it('transcribeFile resolves to a Transcript: finals typed as finals, with words', () => {
    // Never called: the types are the test.
    const run = () => transcribeFile('talk.wav', { url, signal: AbortSignal.timeout(1000) });
    expectTypeOf(run).returns.resolves.toEqualTypeOf<Transcript>();
    expectTypeOf<Transcript['finals'][number]>().toEqualTypeOf<FinalEvent>();
    expectTypeOf<FinalEvent['type']>().toEqualTypeOf<'final'>();
    expectTypeOf<FinalEvent['words'][number]>().toEqualTypeOf<TranscriptWord>();
    expectTypeOf<Transcript['stats']>().toEqualTypeOf<TranscribeStats>();
    expectTypeOf<Transcript['toSrt']>().returns.toBeString();
    type Input = Parameters<typeof transcribeFile>[0];
    expectTypeOf<Blob>().toMatchTypeOf<Input>();
    expectTypeOf<ReadableStream<Uint8Array>>().toMatchTypeOf<Input>();
    expectTypeOf<Uint8Array>().toMatchTypeOf<Input>();
    expectTypeOf<string>().toMatchTypeOf<Input>();
    // @ts-expect-error: a number is no audio
    expectTypeOf<number>().toMatchTypeOf<Input>();
  });

  it('transcribeStream yields TranscriptEvents, narrowed by type', () => {
    const stream = () => transcribeStream(new Uint8Array(0), { url, highWaterMark: 4 });
    expectTypeOf(stream).returns.toMatchTypeOf<AsyncIterable<TranscriptEvent>>();
    const loop = async () => {
      for await (const event of stream()) {
        expectTypeOf(event).toEqualTypeOf<TranscriptEvent>();
        if (event.type === 'final') expectTypeOf(event.words).toEqualTypeOf<readonly TranscriptWord[]>();
        if (isFinal(event)) expectTypeOf(event).toEqualTypeOf<FinalEvent>();
      }
    };
    expectTypeOf(loop).returns.resolves.toBeVoid();
    expectTypeOf(stream).returns.toHaveProperty('stats');
  });

  it('TranscriptionStream is a pair pipeThrough takes: bytes or AudioChunks in, TranscriptEvents out', () => {
    const make = () => new TranscriptionStream({ url });
    expectTypeOf(make).returns.toMatchTypeOf<ReadableWritablePair<TranscriptEvent, Uint8Array>>();
    expectTypeOf(make).returns.toMatchTypeOf<ReadableWritablePair<TranscriptEvent, AudioChunk>>();
    const piped = (body: ReadableStream<Uint8Array>) => body.pipeThrough(make());
    expectTypeOf(piped).returns.toEqualTypeOf<ReadableStream<TranscriptEvent>>();
    expectTypeOf<TranscriptionStreamInput>().toMatchTypeOf<ArrayBufferView | ArrayBuffer | AudioChunk>();
    const wrong = (strings: ReadableStream<string>) =>
      // @ts-expect-error: text is not audio
      strings.pipeThrough(make());
    expectTypeOf(wrong).toBeFunction();
  });
});
