import { describe, expect, it } from 'vitest';
import { claimUpstreamDemand, Demand, withUpstreamDemand } from '../../src/flow/demand.js';

describe('Demand', () => {
  it('adds requests up and counts what is consumed, into debt if need be', () => {
    const demand = new Demand();
    demand.request(100);
    demand.request(50);
    expect(demand.outstanding).toBe(150);
    demand.consume(200);
    expect(demand.outstanding).toBe(-50);
    demand.request(100);
    expect(demand.outstanding).toBe(50);
    expect(demand.requested).toBe(250);
    expect(demand.consumed).toBe(200);
  });

  it('rejects requests that are not positive and finite (Reactive Streams rule 3.9)', () => {
    const demand = new Demand();
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => demand.request(bad)).toThrow(RangeError);
    expect(demand.outstanding).toBe(0);
  });

  it('wakes a waiting producer when demand arrives, not before', async () => {
    const demand = new Demand();
    let woke = false;
    const waiting = demand.whenDemanded().then(() => {
      woke = true;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    demand.request(10);
    await waiting;
    expect(woke).toBe(true);
  });

  it('is claimed by the first source subscribed under it, and only inside', () => {
    const demand = new Demand();
    expect(claimUpstreamDemand('outside')).toBeUndefined();
    const [first, second] = withUpstreamDemand(demand, () => [
      claimUpstreamDemand('a'),
      claimUpstreamDemand('b'),
    ]);
    expect(first).toBe(demand);
    expect(second).toBeUndefined();
    expect(demand.claimant).toBe('a');
    expect(claimUpstreamDemand('after')).toBeUndefined();
  });

  it('nests: an inner pipeline gets its own demand, the outer one is back after it', () => {
    const outer = new Demand();
    const inner = new Demand();
    const claims = withUpstreamDemand(outer, () => {
      const fromInner = withUpstreamDemand(inner, () => claimUpstreamDemand('inner'));
      return [fromInner, claimUpstreamDemand('outer')];
    });
    expect(claims).toEqual([inner, outer]);
  });
});
