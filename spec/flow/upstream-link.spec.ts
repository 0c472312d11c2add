import {
  concat,
  defer,
  map,
  Observable,
  of,
  repeat,
  Subject,
  type Subscriber,
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
  keepUpstreamLink,
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
      [
        'through map and tap',
        (s) =>
          s.pipe(
            map((x) => x),
            tap(),
          ),
      ],
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

  it('is not found outside any link, nor by a shared source subscribed later: those push', () => {
    const found: Array<UpstreamLink | undefined> = [];
    probe(found).subscribe();
    const shared = probe(found).pipe(share());
    const later = new Subject<void>();
    withUpstreamLink(later.pipe(switchMap(() => shared)), link()).subscribe();
    later.next();
    expect(found).toEqual([undefined, undefined]);
  });

  it('reaches through an operator that subscribes with an observer of its own: at once, and later with keepUpstreamLink', () => {
    const found: Array<UpstreamLink | undefined> = [];
    const own = link();
    const later = new Subject<void>();
    // A hand-written operator: a fresh observer breaks the chain of subscribers.
    const relay =
      (keep: boolean) =>
      (source: Observable<number>): Observable<number> =>
        new Observable<number>((subscriber) => {
          const upstream = keep ? keepUpstreamLink(source, subscriber) : source;
          return upstream.subscribe({
            next: (x) => subscriber.next(x),
            error: (e) => subscriber.error(e),
            complete: () => subscriber.complete(),
          });
        });
    withUpstreamLink(probe(found).pipe(relay(false)), own).subscribe();
    withUpstreamLink(
      later.pipe(
        switchMap(() => probe(found)),
        relay(true),
      ),
      own,
    ).subscribe();
    withUpstreamLink(
      later.pipe(
        switchMap(() => probe(found)),
        relay(false),
      ),
      own,
    ).subscribe();
    later.next();
    expect(found).toEqual([own, own, undefined]);
  });

  it('keeps two consumers apart: each source finds its own', () => {
    const found: Array<UpstreamLink | undefined> = [];
    const a = link();
    const b = link();
    const slow = new Subject<void>();
    withUpstreamLink(
      slow.pipe(
        take(1),
        switchMap(() => probe(found)),
      ),
      a,
    ).subscribe();
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
