import { rephrased, type TranscriptionError } from './transcription-error.js';

/** What may be shown of a URL, beyond what is never secret (scheme, host, port, a plain path). */
export interface RedactionOptions {
  /** Query parameters whose values may be shown (`model`, `language`); every other value is redacted. */
  readonly safeQueryParams?: readonly string[];
}

/**
 * A path segment that looks like a credential rather than a name: long, from
 * a token's alphabet, with letters and digits (a JWT, an API key, a signed id).
 */
function looksLikeToken(segment: string): boolean {
  return (
    segment.length >= 16 &&
    /^[A-Za-z0-9._~+=%-]+$/.test(segment) &&
    /\d/.test(segment) &&
    /[A-Za-z]/.test(segment)
  );
}

function isSafe(name: string, options: RedactionOptions): boolean {
  const lower = name.toLowerCase();
  return options.safeQueryParams?.some((safe) => safe.toLowerCase() === lower) ?? false;
}

/**
 * A URL safe to show: user and password, every query value (unless its
 * parameter is marked safe) and path segments that look like tokens are
 * replaced by `***`. A string that does not parse as a URL is not shown.
 */
export function redactUrl(url: string, options: RedactionOptions = {}): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<a URL that does not parse>';
  }
  const tokenInPath = parsed.pathname.split('/').some(looksLikeToken);
  const secretQuery = [...parsed.searchParams.keys()].some((name) => !isSafe(name, options));
  // Nothing to hide: the URL as the user wrote it.
  if (parsed.username === '' && parsed.password === '' && !tokenInPath && !secretQuery) return url;
  const path = parsed.pathname
    .split('/')
    .map((segment) => (looksLikeToken(segment) ? '***' : segment))
    .join('/');
  const query = [...parsed.searchParams]
    .map(
      ([name, value]) =>
        `${encodeURIComponent(name)}=${isSafe(name, options) ? encodeURIComponent(value) : '***'}`,
    )
    .join('&');
  const auth = parsed.username !== '' ? `***${parsed.password !== '' ? ':***' : ''}@` : '';
  return `${parsed.protocol}//${auth}${parsed.host}${path}${query !== '' ? `?${query}` : ''}`;
}

/**
 * The secret strings a URL and headers carry, to scrub from any text: user and
 * password, every query value not marked safe, token-like path segments, every
 * header value (and the credential after a scheme such as `Bearer`), and any
 * `extra` secrets the user names. Strings under 4 characters are not secrets.
 */
export function secretsOf(
  url: string,
  headers: Readonly<Record<string, string>> = {},
  options: RedactionOptions & { readonly extra?: readonly string[] } = {},
): string[] {
  const secrets: string[] = [...(options.extra ?? [])];
  try {
    const parsed = new URL(url);
    const decode = (text: string): string => {
      try {
        return decodeURIComponent(text);
      } catch {
        return text;
      }
    };
    for (const part of [parsed.username, parsed.password]) {
      if (part !== '') secrets.push(part, decode(part));
    }
    for (const segment of parsed.pathname.split('/')) {
      if (looksLikeToken(segment)) secrets.push(segment, decode(segment));
    }
    for (const [name, value] of parsed.searchParams) {
      if (!isSafe(name, options)) secrets.push(value, encodeURIComponent(value));
    }
  } catch {
    secrets.push(url);
  }
  for (const value of Object.values(headers)) {
    if (typeof value !== 'string') continue;
    secrets.push(value);
    // "Bearer abc", "Token abc": the credential alone may be quoted elsewhere.
    const parts = value.split(/\s+/);
    if (parts.length > 1) secrets.push(parts.slice(1).join(' '));
  }
  // Longest first, so a secret that holds another is replaced whole.
  return [...new Set(secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
}

/** `text` with every secret replaced by `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

/** Whether any text an error's cause carries (message, stack, a URL field) holds a secret. */
function causeHoldsSecret(cause: unknown, secrets: readonly string[], depth = 0): boolean {
  if (cause === undefined || cause === null || secrets.length === 0 || depth > 8) return false;
  const c = cause as { message?: unknown; stack?: unknown; url?: unknown; cause?: unknown };
  const texts = typeof cause === 'object' ? [c.message, c.stack, c.url] : [cause];
  for (const text of texts) {
    if (typeof text === 'string' && secrets.some((secret) => text.includes(secret))) return true;
  }
  return typeof cause === 'object' && causeHoldsSecret(c.cause, secrets, depth + 1);
}

/**
 * The error with its message and close reason scrubbed of `secrets`: a new
 * error, without its cause, if anything was scrubbed or the cause holds one.
 */
export function scrubError(error: TranscriptionError, secrets: readonly string[]): TranscriptionError {
  const message = scrub(error.message, secrets);
  const reason = error.closeReason === undefined ? undefined : scrub(error.closeReason, secrets);
  if (message === error.message && reason === error.closeReason && !causeHoldsSecret(error.cause, secrets)) {
    return error;
  }
  return rephrased(error, message, reason !== undefined ? { closeReason: reason } : {});
}
