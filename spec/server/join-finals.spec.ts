import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { joinFinals } from '../../src/server/server-session.js';

/** The EOF's one reply when the resampler's tail ended an utterance of its own just before it. */
describe('joinFinals', () => {
  const word = fc.stringMatching(/^[a-z]{1,8}$/);
  const final = fc.array(word, { maxLength: 6 }).map((words) => ({
    text: words.join(' '),
    result: words.map((w, i) => ({ word: w, start: i, end: i + 0.5, conf: 1 })),
  }));

  it('joins two plain finals: the words in order, the texts with a space, an empty one taking nothing', () => {
    fc.assert(
      fc.property(final, final, (a, b) => {
        const joined = JSON.parse(joinFinals(JSON.stringify(a), JSON.stringify(b))) as typeof a;
        expect(joined.result).toEqual([...a.result, ...b.result]);
        expect(joined.text).toBe([a.text, b.text].filter(Boolean).join(' '));
      }),
    );
  });

  it('joins N-best finals into one alternative: the best of each', () => {
    const a = {
      alternatives: [
        { text: 'one two', confidence: -10, result: [1] },
        { text: 'one', confidence: -12 },
      ],
    };
    const b = { alternatives: [{ text: 'three', confidence: -5, result: [2] }] };
    expect(JSON.parse(joinFinals(JSON.stringify(a), JSON.stringify(b)))).toEqual({
      alternatives: [{ text: 'one two three', confidence: -15, result: [1, 2] }],
    });
    const empty = { alternatives: [{ text: '', confidence: 1 }] };
    expect(joinFinals(JSON.stringify(a), JSON.stringify(empty))).toBe(JSON.stringify(a));
  });
});
