import type { WireMessage } from '../transport/socket-driver.js';
import { TranscriptionError } from './transcription-error.js';

/** Characters of a server message quoted in an error, at most. */
const QUOTED_CHARS = 120;

/** A server message as an error may quote it: cut, and binary shown by its size. */
export function quoteMessage(data: WireMessage): string {
  if (typeof data !== 'string') return `<${data.length} binary bytes>`;
  return data.length > QUOTED_CHARS ? `${data.slice(0, QUOTED_CHARS)}...` : data;
}

/**
 * The error for a server message that cannot be read or contradicts what the
 * session knows: kind `protocol`, not retryable (the same server would say it
 * again), quoting the message (the session scrubs secrets from every error).
 */
export function protocolError(
  protocol: string,
  detail: string,
  data: WireMessage,
  verb: 'read' | 'accept' = 'accept',
): TranscriptionError {
  return new TranscriptionError(
    `the ${protocol} server sent a message this client cannot ${verb} (${detail}): ${quoteMessage(data)}`,
    { kind: 'protocol', retryable: false },
  );
}
