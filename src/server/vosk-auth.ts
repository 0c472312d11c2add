import type { IncomingMessage } from 'node:http';
import { queryOf } from './protocol-endpoint.js';

/**
 * The key a Vosk-protocol client presents, when the server has keys: the
 * header `Authorization: Bearer KEY`, or, from a browser, which cannot set
 * headers, the query parameter `?token=KEY`. (The Vosk server itself has no
 * authentication; this is the reference server's, for exposing it.)
 */
export function voskCredential(request: IncomingMessage): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match !== null) return match[1];
  }
  const token = new URLSearchParams(queryOf(request.url)).get('token');
  return token === null || token === '' ? undefined : token;
}

/** The body of a Vosk upgrade refused for its credentials; it never repeats what was sent. */
export const VOSK_AUTH_REFUSAL =
  'this server needs an API key: send the header "Authorization: Bearer KEY", or ?token=KEY from a browser\n';
