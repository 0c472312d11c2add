import { Observable, type Subscriber } from 'rxjs';
import type { Demand } from './demand.js';

/** Something a source tells the consumer that subscribed it, to count and log. */
export interface SourceNotice {
  /** The bytes ended inside a sample frame: `bytes` (fewer than `frameBytes`) were not audio and were not sent. */
  readonly type: 'trailing-bytes';
  /** The source, as it names itself in messages. */
  readonly source: string;
  readonly bytes: number;
  readonly frameBytes: number;
}

/**
 * At the end of a byte stream: tells `to` (a link or a claim, if any) of the
 * bytes `decoder` holds that are not a whole sample frame, if it holds any.
 */
export function noticeTrailingBytes(
  to: { notice(notice: SourceNotice): void } | undefined,
  source: string,
  decoder: { readonly pendingBytes: number; readonly frameBytes: number },
): void {
  if (to === undefined || decoder.pendingBytes === 0) return;
  to.notice({ type: 'trailing-bytes', source, bytes: decoder.pendingBytes, frameBytes: decoder.frameBytes });
}

/** What a consumer (flow control, a session) offers the sources it subscribes, however deep. */
export interface UpstreamLink {
  /** The demand that sources which can wait answer. */
  readonly demand: Demand;
  /** Takes a source's notice (counted in stats, logged). */
  notice(notice: SourceNotice): void;
}

/** What a source holds while it answers a consumer's demand. */
export interface DemandClaim {
  readonly demand: Demand;
  /** Passes a notice to the consumer. */
  notice(notice: SourceNotice): void;
  /** Stops answering (at the end, on error and on unsubscribe); safe to call again. */
  release(): void;
}

const LINK = Symbol.for('rxjs-transcribe.upstream-link');
/** Operators between a source and its consumer walked at most (a pipe of this many is not real). */
const MAX_HOPS = 256;

/**
 * Links under way: set only while `withUpstreamLink` subscribes, for the
 * sources subscribed synchronously inside by an operator that breaks the chain
 * of subscribers (one that subscribes upstream with an observer of its own).
 */
const subscribing: UpstreamLink[] = [];

/**
 * The source, subscribed with its subscriber carrying `link`. A source
 * subscribed later and deeper (the second file of a `concat`, a `switchMap`
 * into a new file, a `repeat`) finds it too, through the chain of subscribers
 * RxJS builds from it to the consumer: the link travels with the subscription.
 */
export function withUpstreamLink<T>(source: Observable<T>, link: UpstreamLink): Observable<T> {
  return new Observable<T>((subscriber) => {
    (subscriber as unknown as Record<symbol, UpstreamLink>)[LINK] = link;
    subscribing.push(link);
    try {
      return source.subscribe(subscriber);
    } finally {
      subscribing.pop();
    }
  });
}

/**
 * For an operator that subscribes upstream with an observer of its own (which
 * breaks the chain of subscribers): `source` carrying the link that
 * `downstream` leads to, so that sources above it find it even when they are
 * subscribed later. `source` itself when there is none.
 *
 * @example
 * (source) => new Observable((subscriber) =>
 *   keepUpstreamLink(source, subscriber).subscribe({ next: (c) => subscriber.next(gain(c)), ... }))
 */
export function keepUpstreamLink<T>(source: Observable<T>, downstream: Subscriber<unknown>): Observable<T> {
  const link = findUpstreamLink(downstream);
  return link === undefined ? source : withUpstreamLink(source, link);
}

/**
 * The link of the consumer `subscriber` leads to, if any: walks from a source's
 * subscriber down the chain of operators' subscribers to the consumer's. A
 * chain that an operator broke (it subscribed upstream with an observer of its
 * own, and not through `keepUpstreamLink`) still leads to the link of the
 * subscription under way, if the source is subscribed synchronously inside it.
 * `share()` and Subjects lead nowhere when subscribed later: such sources push.
 */
export function findUpstreamLink(subscriber: Subscriber<unknown>): UpstreamLink | undefined {
  let at: unknown = subscriber;
  for (let hop = 0; hop < MAX_HOPS && typeof at === 'object' && at !== null; hop++) {
    const link = (at as Record<symbol, UpstreamLink | undefined>)[LINK];
    if (link !== undefined) return link;
    // RxJS subscribers pass on to `destination` (the next subscriber towards the consumer).
    at = (at as { destination?: unknown }).destination;
  }
  return subscribing.at(-1);
}

/**
 * For a source that can wait, at subscription: the demand of the consumer it
 * was subscribed by, claimed, or undefined when there is none (then push).
 * Hand audio out with `claim.demand.handOut(ms, deliver, chunk)`, and
 * `release()` the claim when the source ends or is unsubscribed.
 */
export function claimUpstreamDemand(subscriber: Subscriber<unknown>): DemandClaim | undefined {
  const link = findUpstreamLink(subscriber);
  if (link === undefined) return undefined;
  const release = link.demand.claim();
  return { demand: link.demand, notice: (notice) => link.notice(notice), release };
}
