import { describe, expect, it } from 'vitest';
import { normaliseWords, wordErrorRate } from '../../src/cli/word-error-rate.js';

describe('wordErrorRate', () => {
  it('counts substitutions, deletions and insertions as sclite does', () => {
    expect(wordErrorRate('the cat sat on the mat', 'the cat sat on the mat')).toMatchObject({ rate: 0 });
    expect(wordErrorRate('the cat sat on the mat', 'the dog sat on mat')).toEqual({
      rate: 2 / 6,
      referenceWords: 6,
      substitutions: 1,
      deletions: 1,
      insertions: 0,
    });
    expect(wordErrorRate('a b', 'a x b y')).toMatchObject({ insertions: 2, rate: 1 });
  });

  it('compares words, not case or punctuation', () => {
    expect(normaliseWords("Mr. Dashwood's  house, sir!")).toEqual(['mr', "dashwood's", 'house', 'sir']);
    expect(wordErrorRate('Hello, World.', 'hello world').rate).toBe(0);
  });

  it('gives the sample recording the rate computed by hand (8 errors in 22 words)', () => {
    const reference =
      'and mister john dashwood had then leisure to consider how much there might be prudently in his power to do for them';
    const hypothesis =
      'and mr john guess what and then at leisure to consider how much there might be greatly in his power to do how about';
    const wer = wordErrorRate(reference, hypothesis);
    expect(wer.referenceWords).toBe(22);
    expect(wer.substitutions + wer.deletions + wer.insertions).toBe(Math.round(wer.rate * 22));
    expect(wer.rate).toBeCloseTo(8 / 22, 10);
  });
});
