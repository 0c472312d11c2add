import { describe, expect, it } from 'vitest';
import { RealtimePacer } from '../../src/server/realtime-pacer.js';

describe('RealtimePacer', () => {
  it('lets audio up to second t be consumed t / factor seconds after the first frame', () => {
    let now = 1000;
    const pacer = new RealtimePacer(1, 32000, () => now);
    expect(pacer.delayFor(3200)).toBe(100); // 100 ms of audio: due at 100 ms
    now += 100;
    expect(pacer.delayFor(3200)).toBe(100);
    now += 250; // the client was late: no wait for what is already due
    expect(pacer.delayFor(3200)).toBe(0);
  });

  it('scales by the factor', () => {
    const now = 0;
    const pacer = new RealtimePacer(10, 32000, () => now);
    expect(pacer.delayFor(32000)).toBe(100); // 1 s of audio at 10x: 100 ms
  });

  it('rejects factors that are not positive and finite', () => {
    for (const factor of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new RealtimePacer(factor, 32000)).toThrow(RangeError);
    }
  });
});
