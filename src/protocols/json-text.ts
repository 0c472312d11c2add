import type { TranscriptionError } from '../errors/transcription-error.js';
import type { WireMessage } from '../transport/socket-driver.js';

/**
 * A server message that must be JSON text, parsed: a binary message or text
 * that is not JSON is `malformed`'s protocol error (every JSON protocol reads
 * its messages this way first).
 */
export function parseJsonText(
  data: WireMessage,
  malformed: (detail: string, data: WireMessage) => TranscriptionError,
): unknown {
  if (typeof data !== 'string') throw malformed('binary, expected JSON text', data);
  try {
    return JSON.parse(data);
  } catch {
    throw malformed('not JSON', data);
  }
}

/** A JSON object (not null, not an array): what a protocol's message or body must be before its fields are read. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON object a refused handshake's body holds, if it holds one (servers explain themselves there). */
export function jsonObjectBody(body: string | undefined): Record<string, unknown> | undefined {
  if (body === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return isJsonObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The longest explanation from a server that an error quotes. */
export const DETAIL_CHARS = 200;

/** A server's explanation cut to {@link DETAIL_CHARS}, for an error message. */
export function cutDetail(text: string): string {
  return text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS)}...` : text;
}
