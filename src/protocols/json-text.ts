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
