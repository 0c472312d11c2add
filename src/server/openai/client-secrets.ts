import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RealtimeKeys } from './auth.js';
import { realtimeCredential } from './auth.js';
import { realtimeId } from './messages.js';
import { applySessionUpdate, defaultSession } from './session-config.js';

/** The route that mints ephemeral keys for browsers, as `openai` 7 calls it (`client.realtime.clientSecrets.create`). */
export const CLIENT_SECRETS_PATH = '/v1/realtime/client_secrets';

/** OpenAI's default lifetime of a client secret, and its bounds (seconds). */
const DEFAULT_TTL_S = 600;
const MIN_TTL_S = 10;
const MAX_TTL_S = 7200;
/** A request body larger than this is refused. */
const MAX_BODY_BYTES = 64 * 1024;

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function apiError(
  response: ServerResponse,
  status: number,
  code: string | null,
  message: string,
  param: string | null = null,
): void {
  sendJson(response, status, { error: { message, type: 'invalid_request_error', param, code } });
}

/**
 * `POST /v1/realtime/client_secrets`: with a standing key (Bearer), mints an
 * `ek_` key a browser may open a transcription session with (in the
 * `openai-insecure-api-key.` subprotocol), valid for `expires_after.seconds`
 * (10 to 7,200; default 600). The session configuration given is checked
 * and echoed; sessions opened with the key start from the default one.
 */
export function handleClientSecrets(
  request: IncomingMessage,
  response: ServerResponse,
  keys: RealtimeKeys,
): void {
  if (request.method !== 'POST') {
    response.setHeader('allow', 'POST');
    apiError(
      response,
      405,
      null,
      `Method ${request.method ?? ''} not allowed on ${CLIENT_SECRETS_PATH}; use POST.`,
    );
    return;
  }
  // An ephemeral key cannot mint another; nor can anything but a key of the server's.
  const credential = realtimeCredential(request);
  if (!keys.isApiKey(credential) || credential?.startsWith('ek_') === true) {
    apiError(
      response,
      401,
      'invalid_api_key',
      'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
    );
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  request.on('error', () => {});
  request.on('end', () => {
    if (size > MAX_BODY_BYTES) {
      apiError(response, 413, null, `The request body is over ${MAX_BODY_BYTES} bytes.`);
      return;
    }
    let body: Record<string, unknown> = {};
    if (size > 0) {
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not an object');
        body = parsed as Record<string, unknown>;
      } catch {
        apiError(response, 400, null, 'We could not parse the JSON body of your request.');
        return;
      }
    }
    const expires = body.expires_after as { seconds?: unknown } | undefined;
    const seconds = expires?.seconds ?? DEFAULT_TTL_S;
    if (
      typeof seconds !== 'number' ||
      !Number.isInteger(seconds) ||
      seconds < MIN_TTL_S ||
      seconds > MAX_TTL_S
    ) {
      apiError(
        response,
        400,
        'invalid_value',
        `Invalid 'expires_after.seconds': expected a whole number from ${MIN_TTL_S} to ${MAX_TTL_S}.`,
        'expires_after.seconds',
      );
      return;
    }
    const expiresAt = Math.floor(Date.now() / 1000) + seconds;
    const base = defaultSession(realtimeId('sess'), expiresAt);
    const session = body.session === undefined ? base : applySessionUpdate(base, body.session);
    if ('param' in session) {
      apiError(response, 400, 'invalid_value', session.message, session.param);
      return;
    }
    const value = realtimeId('ek');
    keys.addEphemeral(value, expiresAt * 1000);
    sendJson(response, 200, { value, expires_at: expiresAt, session });
  });
}
