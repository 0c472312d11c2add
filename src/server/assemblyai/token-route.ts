import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AssemblyAIKeys, TokenStore } from './auth.js';

/** The path of AssemblyAI's temporary-token endpoint. */
export const TOKEN_PATH = '/v3/token';

/** The longest session AssemblyAI allows, in seconds (3 h), and a token's default. */
export const MAX_SESSION_SECONDS = 10_800;

function reply(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
  });
  response.end(json);
}

function whole(params: URLSearchParams, name: string, min: number, max: number): number | string | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    return `${name} must be a whole number from ${min} to ${max}`;
  return n;
}

/**
 * `GET /v3/token?expires_in_seconds=N[&max_session_duration_seconds=M]` with
 * the API key in `Authorization`, as AssemblyAI serves it:
 * `{token, expires_in_seconds}`; the token must open a session within N
 * seconds (1 to 600) and opens one only. 401 for a missing or unknown key,
 * 400 for bad parameters (AssemblyAI's `{error}` body).
 */
export function serveToken(
  request: IncomingMessage,
  response: ServerResponse,
  keys: AssemblyAIKeys,
  tokens: TokenStore,
): void {
  if (request.method !== 'GET') {
    reply(response, 405, { error: 'Method not allowed: use GET' });
    return;
  }
  if (!keys.admitsHeader(request)) {
    reply(response, 401, { error: 'Invalid API key' });
    return;
  }
  const params = new URLSearchParams((request.url ?? '').split('?').slice(1).join('?'));
  const expires = whole(params, 'expires_in_seconds', 1, 600);
  const maxSession = whole(params, 'max_session_duration_seconds', 60, MAX_SESSION_SECONDS);
  if (expires === undefined) {
    reply(response, 400, { error: 'expires_in_seconds is required' });
    return;
  }
  for (const value of [expires, maxSession]) {
    if (typeof value === 'string') {
      reply(response, 400, { error: value });
      return;
    }
  }
  const token = tokens.mint(expires as number, (maxSession as number | undefined) ?? MAX_SESSION_SECONDS);
  reply(response, 200, { token, expires_in_seconds: expires });
}
