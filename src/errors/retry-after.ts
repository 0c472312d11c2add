/** delay-seconds (RFC 9110 10.2.3): one or more digits, nothing else. */
const DELAY_SECONDS = /^\d+$/;
/** IMF-fixdate (RFC 9110 5.6.7), the preferred form: `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/i;
/** The obsolete RFC 850 form: `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC_850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/i;
/** The obsolete asctime form, in UTC though it does not say so: `Sun Nov  6 08:49:37 1994`. */
const ASCTIME_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (?: \d|\d{2}) \d{2}:\d{2}:\d{2} \d{4}$/i;

/**
 * The wait a `Retry-After` header asks for (RFC 9110 10.2.3), in ms from `now`
 * (ms since the epoch): delay-seconds, or an HTTP-date in any of its three
 * forms (a date already past is 0). Anything else (empty, negative,
 * fractional, a date that does not parse) is undefined. A large value is
 * returned as it is: capping it is the caller's business.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (DELAY_SECONDS.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isFinite(ms) ? ms : undefined;
  }
  // Date.parse takes far more than HTTP-dates ("-1" is the year -1), so only
  // the three forms go to it. asctime has no zone, and Date.parse would read
  // it as local time: it is UTC.
  let date: number;
  if (IMF_FIXDATE.test(text) || RFC_850_DATE.test(text)) date = Date.parse(text);
  else if (ASCTIME_DATE.test(text)) date = Date.parse(`${text} GMT`);
  else return undefined;
  if (!Number.isFinite(date)) return undefined;
  return Math.max(0, date - now);
}
