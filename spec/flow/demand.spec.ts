import { describe, expect, it } from 'vitest';
import { Demand } from '../../src/flow/demand.js';

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

  it('counts its claims, each released once', () => {
    const demand = new Demand();
    const first = demand.claim();
    const second = demand.claim();
    expect(demand.claims).toBe(2);
    first();
    first();
    expect(demand.claims).toBe(1);
    second();
    expect(demand.claims).toBe(0);
  });

  it('hands out: consumed before delivery, delivering only during it', () => {
    const demand = new Demand();
    demand.request(100);
    const seen: Array<[number, number, boolean]> = [];
    demand.handOut(40, (value: number) => seen.push([value, demand.outstanding, demand.delivering]), 7);
    expect(seen).toEqual([[7, 60, true]]);
    expect(demand.delivering).toBe(false);
    expect(demand.consumed).toBe(40);
  });
});
