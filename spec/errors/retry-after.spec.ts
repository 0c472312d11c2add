import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { handshakeError } from '../../src/errors/close-codes.js';
import { scrubError } from '../../src/errors/redact.js';
import { parseRetryAfter } from '../../src/errors/retry-after.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
/** Now, anywhere from 1970 to 2200. */
const anyNow = fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) });
/** HTTP-dates have four-digit years. */
const anyHttpDate = fc.date({
  min: new Date(Date.UTC(1000, 0, 1)),
  max: new Date(Date.UTC(9999, 11, 31, 23, 59, 59)),
  noInvalidDate: true,
});

describe('parseRetryAfter', () => {
  it('delay-seconds: any non-negative integer, trimmed, in ms', () => {
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom('', ' ', '\t'), anyNow, (seconds, pad, now) => {
        expect(parseRetryAfter(`${pad}${seconds}${pad}`, now)).toBe(seconds * 1000);
      }),
    );
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('007', NOW)).toBe(7000);
    // A day and more is returned as it is: capping it is the session's business.
    expect(parseRetryAfter('864000', NOW)).toBe(864_000_000);
  });

  it('an HTTP-date (toUTCString, an IMF-fixdate): the time until it, within the second it drops', () => {
    fc.assert(
      fc.property(anyHttpDate, anyNow, (date, now) => {
        const wait = parseRetryAfter(date.toUTCString(), now);
        const exact = Math.max(0, date.getTime() - now);
        expect(wait).toBeDefined();
        expect(wait!).toBeLessThanOrEqual(exact);
        expect(wait!).toBeGreaterThan(exact - 1000);
        expect(wait!).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('the three forms of RFC 9110 5.6.7, all UTC; a date past is 0', () => {
    const at = Date.UTC(1994, 10, 6, 8, 49, 37);
    const before = at - 30_000;
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', before)).toBe(30_000);
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', before)).toBe(30_000);
    // asctime carries no zone: it is UTC, not local time.
    expect(parseRetryAfter('Sun Nov  6 08:49:37 1994', before)).toBe(30_000);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', at + 5000)).toBe(0);
  });

  it('anything else is undefined', () => {
    for (const value of [
      undefined,
      '',
      '   ',
      '-1',
      '1.5',
      '+3',
      '1e3',
      '0x10',
      '30 s',
      'soon',
      '1 2',
      'Sun, 06 Nov 1994 25:61:37 GMT',
      'Sun, 06 Nov 1994 08:49:37 PST',
      '2025-06-01T12:00:00Z',
      '9'.repeat(400),
    ]) {
      expect(parseRetryAfter(value, NOW), JSON.stringify(value)).toBeUndefined();
    }
  });

  it('never throws: any string gives undefined or a finite non-negative number', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.stringMatching(/^[\d ,:-]*$/),
          // HTTP-dates with one character changed: through the form checks to Date.parse.
          fc
            .tuple(anyHttpDate, fc.nat(28), fc.string({ minLength: 1, maxLength: 1 }))
            .map(([date, at, c]) => {
              const text = date.toUTCString();
              return text.slice(0, at) + c + text.slice(at + 1);
            }),
        ),
        anyNow,
        (value, now) => {
          const wait = parseRetryAfter(value, now);
          if (wait !== undefined) {
            expect(Number.isFinite(wait)).toBe(true);
            expect(wait).toBeGreaterThanOrEqual(0);
          }
        },
      ),
    );
  });
});

describe('handshakeError with a Retry-After', () => {
  it('carries the wait and says it', () => {
    const error = handshakeError(429, 'ws://host/', 30_000);
    expect(error).toMatchObject({
      kind: 'rate-limit',
      retryable: true,
      httpStatus: 429,
      retryAfterMs: 30_000,
    });
    expect(error.message).toBe(
      'the server refused the WebSocket handshake to ws://host/ with HTTP 429 (too many requests; slow down; the server asks to wait 30 s)',
    );
    expect(handshakeError(503, 'ws://host/', 1500)).toMatchObject({
      kind: 'server',
      retryable: true,
      httpStatus: 503,
      retryAfterMs: 1500,
      message: expect.stringContaining('(the server failed; the server asks to wait 2 s)'),
    });
  });

  it('without one, retryAfterMs is undefined and the message as before', () => {
    const error = handshakeError(429, 'ws://host/');
    expect(error.retryAfterMs).toBeUndefined();
    expect(error.message).toMatch(/\(too many requests; slow down\)$/);
  });

  it('scrubError keeps it when it rebuilds the error', () => {
    const error = handshakeError(429, 'ws://host/?token=abcdefgh', 7000);
    const scrubbed = scrubError(error, ['abcdefgh']);
    expect(scrubbed).not.toBe(error);
    expect(scrubbed.message).not.toContain('abcdefgh');
    expect(scrubbed).toMatchObject({
      kind: 'rate-limit',
      retryable: true,
      httpStatus: 429,
      retryAfterMs: 7000,
    });
  });
});
