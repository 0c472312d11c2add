import { describe, expect, it } from 'vitest';
import { RealtimePacer } from '../../src/server/realtime-pacer.js';

describe('RealtimePacer', () => {
  it('lets audio from second t on be consumed t / factor seconds after the first frame', () => {
    let now = 1000;
    const pacer = new RealtimePacer(1, 32000, () => now);
    expect(pacer.delayFor(3200)).toBe(0); // the first 100 ms: at once
    expect(pacer.delayFor(3200)).toBe(100); // sent at once after it: its start is due at 100 ms
    now += 100;
    expect(pacer.delayFor(3200)).toBe(100); // 200 ms in
    now += 350; // the client was late: no wait for what is already due
    expect(pacer.delayFor(3200)).toBe(0);
  });

  it('never holds back a live source, whose frame of second t comes t seconds after its first', () => {
    let now = 0;
    const pacer = new RealtimePacer(1, 32000, () => now);
    for (let frame = 0; frame < 50; frame++) {
      now = frame * 100 + (frame % 3); // on time, or a little late
      expect(pacer.delayFor(3200)).toBe(0);
    }
  });

  it('scales by the factor', () => {
    const now = 0;
    const pacer = new RealtimePacer(10, 32000, () => now);
    expect(pacer.delayFor(32000)).toBe(0);
    expect(pacer.delayFor(32000)).toBe(100); // the second second at 10x: 100 ms in
  });

  it('rejects factors that are not positive and finite', () => {
    for (const factor of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new RealtimePacer(factor, 32000)).toThrow(RangeError);
    }
  });
});
