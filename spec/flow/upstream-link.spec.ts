import {
  concat,
  defer,
  map,
  Observable,
  of,
  repeat,
  type Subscriber,
  Subject,
  share,
  switchMap,
  take,
  tap,
} from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Demand } from '../../src/flow/demand.js';
import {
  claimUpstreamDemand,
  findUpstreamLink,
  type UpstreamLink,
  withUpstreamLink,
} from '../../src/flow/upstream-link.js';

/** A source that records the link it finds at each subscription, then emits once and completes. */
function probe(found: Array<UpstreamLink | undefined>): Observable<number> {
  return new Observable<number>((subscriber: Subscriber<number>) => {
    found.push(findUpstreamLink(subscriber));
    subscriber.next(1);
    subscriber.complete();
  });
}

function link(): UpstreamLink {
  return { demand: new Demand(), notice: () => {} };
}

describe('the upstream link', () => {
  it('is found by sources however deep and however late they are subscribed', () => {
    const cases: Array<[string, (source: Observable<number>) => Observable<number>]> = [
      ['directly', (s) => s],
      ['through map and tap', (s) => s.pipe(map((x) => x), tap())],
      ['the second of a concat', (s) => concat(of(0), s)],
      ['every round of a repeat', (s) => s.pipe(repeat(3))],
      ['a defer', (s) => defer(() => s)],
    ];
    for (const [name, compose] of cases) {
      const found: Array<UpstreamLink | undefined> = [];
      const own = link();
      withUpstreamLink(compose(probe(found)), own).subscribe();
      expect(found.length, name).toBeGreaterThan(0);
      for (const each of found) expect(each, name).toBe(own);
    }
  });

  it('reaches a switchMap inner subscribed from a Subject long after subscription', () => {
    const found: Array<UpstreamLink | undefined> = [];
    const names = new Subject<string>();
    const own = link();
    withUpstreamLink(names.pipe(switchMap(() => probe(found))), own).subscribe();
    names.next('a');
    names.next('b');
    expect(found).toEqual([own, own]);
  });

  it('is not found through share() or outside any link, so those sources push', () => {
    const found: Array<UpstreamLink | undefined> = [];
    probe(found).subscribe();
    withUpstreamLink(probe(found).pipe(share()), link()).subscribe();
    expect(found).toEqual([undefined, undefined]);
  });

  it('keeps two consumers apart: each source finds its own', () => {
    const found: Array<UpstreamLink | undefined> = [];
    const a = link();
    const b = link();
    const slow = new Subject<void>();
    withUpstreamLink(slow.pipe(take(1), switchMap(() => probe(found))), a).subscribe();
    withUpstreamLink(probe(found), b).subscribe();
    slow.next();
    expect(found).toEqual([b, a]);
  });

  it('claims and releases the demand', () => {
    const own = link();
    let claimedDuring = -1;
    withUpstreamLink(
      new Observable<number>((subscriber) => {
        const claim = claimUpstreamDemand(subscriber);
        claimedDuring = own.demand.claims;
        claim?.release();
        subscriber.complete();
      }),
      own,
    ).subscribe();
    expect(claimedDuring).toBe(1);
    expect(own.demand.claims).toBe(0);
  });
});
