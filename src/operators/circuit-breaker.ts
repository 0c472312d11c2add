import { type MonoTypeOperatorFunction, Observable } from 'rxjs';
import { isTranscriptionError } from '../errors/transcription-error.js';
import { type BreakerTicket, CircuitBreaker } from '../resilience/circuit-breaker.js';

/** Failures that say nothing about the endpoint: the client's own audio, or its own backpressure. */
function countsAgainstEndpoint(error: unknown): boolean {
  return !(isTranscriptionError(error) && (error.kind === 'bad-audio' || error.kind === 'overflow'));
}

/**
 * Guards each subscription to the source with `breaker`: when it is open, the
 * subscription fails at once with a `breaker-open` error. The attempt counts
 * as a success at the first value for which `isSuccess` holds (by default the
 * first value), as a failure when the source errors first (not for bad audio
 * or overflow), and as neither when unsubscribed or completed before. Put
 * retries outside it: `source.pipe(circuitBreaker(b), retryBackoff())`.
 */
export function circuitBreaker<T>(
  breaker: CircuitBreaker,
  isSuccess: (value: T) => boolean = () => true,
): MonoTypeOperatorFunction<T> {
  if (!(breaker instanceof CircuitBreaker)) throw new TypeError('circuitBreaker: pass a CircuitBreaker');
  return (source) =>
    new Observable<T>((subscriber) => {
      const ticket: BreakerTicket | Error = breaker.acquire();
      if (ticket instanceof Error) {
        subscriber.error(ticket);
        return;
      }
      let decided = false;
      const subscription = source.subscribe({
        next(value) {
          if (!decided && isSuccess(value)) {
            decided = true;
            ticket.success();
          }
          subscriber.next(value);
        },
        error(error) {
          if (!decided) {
            decided = true;
            if (countsAgainstEndpoint(error)) ticket.failure();
            else ticket.release();
          }
          subscriber.error(error);
        },
        complete() {
          if (!decided) {
            decided = true;
            ticket.release();
          }
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        if (!decided) ticket.release();
      };
    });
}
