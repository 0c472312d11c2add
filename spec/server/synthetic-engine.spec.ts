import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { syntheticEngine } from '../../src/server/engines/synthetic.js';
import { expectedSyntheticWords, syntheticPcm } from '../helpers/audio.js';

type Reply = {
  partial?: string;
  text?: string;
  result?: Array<{ word: string; start: number; end: number }>;
};

async function feed(pcm: Buffer, cuts: number[], rate: number, words = true): Promise<Reply[]> {
  const session = syntheticEngine.createSession({ sampleRate: rate, words }, () => {});
  const replies: Reply[] = [];
  let offset = 0;
  for (const cut of [...cuts.filter((c) => c < pcm.length).sort((a, b) => a - b), pcm.length]) {
    replies.push(JSON.parse(await session.accept(pcm.subarray(offset, cut))) as Reply);
    offset = cut;
  }
  replies.push(JSON.parse(await session.finish()) as Reply);
  await session.close();
  return replies;
}

describe('synthetic engine', () => {
  it('says one word per second of audio, the SHA-256 of that second, for any split of the audio', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(8000, 16000, 44100),
        fc.integer({ min: 0, max: 3500 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (rate, millis, rawCuts) => {
          const pcm = syntheticPcm(millis / 1000, rate, millis + 1);
          const cuts = rawCuts.map((c) => (c % (pcm.length + 1)) & ~1);
          const replies = await feed(pcm, cuts, rate);
          const words = replies.flatMap((r) => r.result ?? []);
          expect(words).toEqual(expectedSyntheticWords(pcm, rate).map((w) => ({ ...w, conf: 1 })));
          // One reply per message; partials are empty; finals' text matches their words.
          expect(replies).toHaveLength(cuts.filter((c) => c < pcm.length).length + 2);
          for (const reply of replies) {
            if (reply.partial !== undefined) expect(reply.partial).toBe('');
            else expect(reply.text).toBe((reply.result ?? []).map((w) => w.word).join(' '));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('puts every second a frame completes into its one reply', async () => {
    const pcm = syntheticPcm(3.5);
    const [first, last] = await feed(pcm, [], 16000);
    expect(first?.result?.map((w) => w.start)).toEqual([0, 1, 2]);
    expect(last?.result).toEqual([expect.objectContaining({ start: 3, end: 3.5 })]);
  });

  it('gives text without word times when words is false, and an empty final for no audio', async () => {
    const replies = await feed(syntheticPcm(1), [], 16000, false);
    expect(replies[0]).toEqual({ text: expectedSyntheticWords(syntheticPcm(1))[0]?.word });
    expect(await feed(Buffer.alloc(0), [], 16000)).toEqual([{ partial: '' }, { text: '' }]);
  });

  it('takes rates from 8 to 192 kHz only', () => {
    expect(syntheticEngine.checkSampleRate(16000)).toBeUndefined();
    expect(syntheticEngine.checkSampleRate(4000)).toMatch(/8000 to 192000/);
    expect(syntheticEngine.checkSampleRate(16000.5)).toBeDefined();
  });
});
