import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type EngineName, startServer } from '../server/start-server.js';
import { nonNegativeInteger, normaliseRealtimeFlag, positiveNumber } from './args.js';

export const SERVE_USAGE = `usage: rxjs-transcribe serve [--port 2700] [--host 127.0.0.1] [--engine pocketsphinx|synthetic] [--realtime [FACTOR]] [--api-key KEY]... [--api-key-file FILE] [--tls-cert FILE --tls-key FILE]
       [--max-sessions N] [--max-sessions-per-address N] [--max-session-ms MS] [--idle-timeout-ms MS]
       [--allow-origin ORIGIN]... [--drain-ms MS]

Runs the reference speech-to-text server over WebSocket: the Vosk protocol on every path,
and Deepgram's live transcription protocol on /v1/listen (point Deepgram's SDK at it with
baseUrl: 'ws://HOST:PORT'), AssemblyAI's Universal-Streaming v3 on /v3/ws (its SDK needs wss:),
OpenAI's Realtime transcription on /v1/realtime?intent=transcription (its SDK needs wss:).
  --port N           port to listen on (0 picks a free one; default 2700)
  --host ADDR        address to listen on (default 127.0.0.1; 0.0.0.0 for the network)
  --engine NAME      pocketsphinx (a real recogniser, default) or synthetic (hashes, for load tests)
  --realtime [X]     consume audio at X times real time (default 1), applying TCP backpressure
  --max-frame BYTES  largest audio frame accepted (default 1048576)
  --api-key KEY      a key every client must send, in its protocol's way (Vosk: Authorization:
                     Bearer KEY or ?token=KEY; Deepgram: Authorization: Token KEY; AssemblyAI:
                     Authorization: KEY, or ?token= from GET /v3/token; OpenAI: Authorization:
                     Bearer KEY, or an ek_ key from POST /v1/realtime/client_secrets in the
                     openai-insecure-api-key. subprotocol); repeat for more keys.
                     Also one per line in --api-key-file FILE, or comma-separated in
                     RXJS_TRANSCRIBE_API_KEYS. Without any, clients need no credentials.
  --tls-cert FILE    serve wss: and https: with this PEM certificate (chain); needs --tls-key
  --tls-key FILE     the PEM private key of --tls-cert
  --max-sessions N   sessions open at once; more are told to try again later (Vosk: close 1013)
  --max-sessions-per-address N   the same, per client address
  --max-session-ms MS  close sessions this old (1001, so clients reconnect)
  --idle-timeout-ms MS close sessions that send nothing for this long (1001)
  --allow-origin ORIGIN  browser origins that may connect (repeatable; others get HTTP 403)
  --drain-ms MS      on SIGTERM or SIGINT, take no new sessions and give open ones this long to
                     end (default 10000), then close them with 1001; a second signal stops at once`;

/** The keys of `--api-key`, `--api-key-file` and RXJS_TRANSCRIBE_API_KEYS, checked without ever repeating one in an error. */
function apiKeys(flags: readonly string[], file: string | undefined): string[] {
  const keys = [...flags];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(
        `--api-key-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    keys.push(
      ...text
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#')),
    );
  }
  const fromEnv = process.env.RXJS_TRANSCRIBE_API_KEYS;
  if (fromEnv !== undefined)
    keys.push(
      ...fromEnv
        .split(',')
        .map((key) => key.trim())
        .filter(Boolean),
    );
  for (const key of keys) {
    if (key.trim() === '' || /\s|,/.test(key)) {
      throw new Error('an API key must have no spaces or commas (the key is not shown)');
    }
  }
  return keys;
}

/** The PEM files of `--tls-cert` and `--tls-key`, both or neither. */
function tlsFiles(
  cert: string | undefined,
  key: string | undefined,
): { cert: Buffer; key: Buffer } | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new Error('--tls-cert and --tls-key go together: give both PEM files, or neither for plain ws:');
  }
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  return { cert: read('--tls-cert', cert), key: read('--tls-key', key) };
}

/** `rxjs-transcribe serve`: runs until SIGINT or SIGTERM. */
export async function serveCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: normaliseRealtimeFlag(argv),
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      engine: { type: 'string' },
      realtime: { type: 'string' },
      'max-frame': { type: 'string' },
      'api-key': { type: 'string', multiple: true },
      'api-key-file': { type: 'string' },
      'max-sessions': { type: 'string' },
      'max-sessions-per-address': { type: 'string' },
      'max-session-ms': { type: 'string' },
      'idle-timeout-ms': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      'drain-ms': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  const engine = values.engine ?? 'pocketsphinx';
  if (engine !== 'pocketsphinx' && engine !== 'synthetic') {
    throw new Error(`--engine takes pocketsphinx or synthetic, got "${engine}"`);
  }
  const tls = tlsFiles(values['tls-cert'], values['tls-key']);
  const keys = apiKeys(values['api-key'] ?? [], values['api-key-file']);
  const drainMs = nonNegativeInteger('drain-ms', values['drain-ms']) ?? 10_000;
  const server = await startServer({
    port: nonNegativeInteger('port', values.port) ?? 2700,
    ...(values.host !== undefined ? { host: values.host } : {}),
    engine: engine as EngineName,
    ...(values.realtime !== undefined
      ? { realtime: positiveNumber('realtime', values.realtime, false) }
      : {}),
    ...(values['max-frame'] !== undefined
      ? { maxFrameBytes: positiveNumber('max-frame', values['max-frame'], true) }
      : {}),
    apiKeys: keys,
    limits: {
      ...optional('maxSessions', positiveNumber('max-sessions', values['max-sessions'], true)),
      ...optional(
        'maxSessionsPerAddress',
        positiveNumber('max-sessions-per-address', values['max-sessions-per-address'], true),
      ),
      ...optional('maxSessionMs', positiveNumber('max-session-ms', values['max-session-ms'], false)),
      ...optional('idleTimeoutMs', positiveNumber('idle-timeout-ms', values['idle-timeout-ms'], false)),
      ...(values['allow-origin'] !== undefined ? { allowedOrigins: values['allow-origin'] } : {}),
    },
    ...(tls !== undefined ? { tls } : {}),
  });
  const pace = values.realtime !== undefined ? `, realtime ${values.realtime}x` : '';
  // The count of keys only: a key is never printed.
  const auth = keys.length > 0 ? `, ${keys.length} API key${keys.length === 1 ? '' : 's'}` : '';
  process.stderr.write(
    `rxjs-transcribe server (${server.engine} engine${pace}${auth}) listening on ${server.url} (Vosk on every path, Deepgram on /v1/listen)\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const open = server.stats().sessions;
  process.stderr.write(
    `draining: no new sessions; ${open} open session${open === 1 ? '' : 's'} get up to ${drainMs} ms to end (a second signal stops at once)\n`,
  );
  const now = (): void => {
    process.stderr.write('closing now\n');
    void server.close();
  };
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  try {
    await server.drain(drainMs);
  } finally {
    process.off('SIGINT', now);
    process.off('SIGTERM', now);
  }
  process.stderr.write('stopped\n');
  return 0;
}

/** `{ [name]: value }` when the flag was given, else nothing. */
function optional<K extends string>(name: K, value: number | undefined): { [key in K]?: number } {
  return (value === undefined ? {} : { [name]: value }) as { [key in K]?: number };
}
