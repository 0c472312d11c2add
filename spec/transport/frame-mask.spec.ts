import { describe, expect, it } from 'vitest';
import { maskGenerator } from '../../src/transport/frame-mask.js';

describe('maskGenerator', () => {
  it('never hands out an all-zero mask, even when the random source gives zeros', () => {
    let calls = 0;
    // First pool: all zeros but the very last 4 bytes; then counting bytes.
    const generate = maskGenerator((pool) => {
      calls += 1;
      if (calls === 1) {
        pool.fill(0);
        pool.set([1, 2, 3, 4], pool.length - 4);
      } else for (let i = 0; i < pool.length; i++) pool[i] = (i * 7 + calls) & 0xff;
    });
    const mask = new Uint8Array(4);
    generate(mask);
    expect(Array.from(mask)).toEqual([1, 2, 3, 4]);
    for (let i = 0; i < 5000; i++) {
      generate(mask);
      expect(mask[0]! | mask[1]! | mask[2]! | mask[3]!).not.toBe(0);
    }
    expect(calls).toBeGreaterThan(1);
  });

  it('draws fresh random masks from the system source by default', () => {
    const generate = maskGenerator();
    const seen = new Set<string>();
    const mask = new Uint8Array(4);
    for (let i = 0; i < 4096; i++) {
      generate(mask);
      seen.add(mask.join(','));
    }
    // 4,096 draws of 32 random bits: a repeat is possible, many are not.
    expect(seen.size).toBeGreaterThan(4090);
  });
});
