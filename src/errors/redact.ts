import { TranscriptionError } from './transcription-error.js';

/** Query parameters whose values are secrets (tokens, keys, signatures). */
const SECRET_PARAM = /token|key|secret|auth|passw|pwd|signature|sig|credential|session/i;

/** A URL safe to show: credentials and secret-looking query values replaced by `***`. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<a URL that does not parse>';
  }
  const secretParams = [...parsed.searchParams.keys()].filter((name) => SECRET_PARAM.test(name));
  // Nothing to hide: the URL as the user wrote it.
  if (parsed.username === '' && parsed.password === '' && secretParams.length === 0) return url;
  if (parsed.username !== '') parsed.username = '***';
  if (parsed.password !== '') parsed.password = '***';
  for (const name of secretParams) parsed.searchParams.set(name, '***');
  return parsed.toString().replace(/%2A%2A%2A/g, '***');
}

/** The secret strings a URL and headers carry, to scrub from any text. */
export function secretsOf(url: string, headers: Readonly<Record<string, string>> = {}): string[] {
  const secrets: string[] = [];
  try {
    const parsed = new URL(url);
    if (parsed.username !== '') secrets.push(decodeURIComponent(parsed.username));
    if (parsed.password !== '') secrets.push(decodeURIComponent(parsed.password));
    for (const [name, value] of parsed.searchParams) if (SECRET_PARAM.test(name)) secrets.push(value);
  } catch {
    secrets.push(url);
  }
  for (const value of Object.values(headers)) {
    secrets.push(value);
    // "Bearer abc": the credential alone may be quoted elsewhere.
    const parts = value.split(/\s+/);
    if (parts.length > 1) secrets.push(parts.slice(1).join(' '));
  }
  return secrets.filter((s) => s.length >= 4);
}

/** `text` with every secret replaced by `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

/** The error with its message scrubbed of `secrets` (a new error without its cause, if anything was scrubbed). */
export function scrubError(error: TranscriptionError, secrets: readonly string[]): TranscriptionError {
  const message = scrub(error.message, secrets);
  const reason = error.closeReason === undefined ? undefined : scrub(error.closeReason, secrets);
  if (message === error.message && reason === error.closeReason) return error;
  return new TranscriptionError(message, {
    kind: error.kind,
    retryable: error.retryable,
    ...(error.closeCode !== undefined ? { closeCode: error.closeCode } : {}),
    ...(reason !== undefined ? { closeReason: reason } : {}),
    ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {}),
  });
}
