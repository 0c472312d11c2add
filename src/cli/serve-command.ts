import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type EngineName, startServer } from '../server/start-server.js';
import { nonNegativeInteger, normaliseRealtimeFlag, positiveNumber } from './args.js';

export const SERVE_USAGE = `usage: rxjs-transcribe serve [--port 2700] [--host 127.0.0.1] [--engine pocketsphinx|synthetic] [--realtime [FACTOR]] [--api-key KEY]... [--tls-cert FILE --tls-key FILE]

Runs the reference speech-to-text server over WebSocket: the Vosk protocol on every path,
and Deepgram's live transcription protocol on /v1/listen (point Deepgram's SDK at it with
baseUrl: 'ws://HOST:PORT').
  --port N           port to listen on (0 picks a free one; default 2700)
  --host ADDR        address to listen on (default 127.0.0.1; 0.0.0.0 for the network)
  --engine NAME      pocketsphinx (a real recogniser, default) or synthetic (hashes, for load tests)
  --realtime [X]     consume audio at X times real time (default 1), applying TCP backpressure
  --max-frame BYTES  largest audio frame accepted (default 1048576)
  --api-key KEY      a key Deepgram clients must send (Authorization: Token KEY); repeat for
                     more keys. Without one, /v1/listen takes any credentials. Vosk has no auth.
  --tls-cert FILE    serve wss: and https: with this PEM certificate (chain); needs --tls-key
  --tls-key FILE     the PEM private key of --tls-cert`;

/** The keys of `--api-key`, checked without ever repeating one in an error. */
function apiKeys(keys: readonly string[]): string[] {
  for (const key of keys) {
    if (key.trim() === '' || /\s|,/.test(key)) {
      throw new Error('--api-key takes a key without spaces or commas (the key is not shown)');
    }
  }
  return [...keys];
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
    ...(values['api-key'] !== undefined ? { apiKeys: apiKeys(values['api-key']) } : {}),
    ...(tls !== undefined ? { tls } : {}),
  });
  const pace = values.realtime !== undefined ? `, realtime ${values.realtime}x` : '';
  const keys = values['api-key']?.length ?? 0;
  // The count of keys only: a key is never printed.
  const auth = keys > 0 ? `, ${keys} Deepgram API key${keys === 1 ? '' : 's'}` : '';
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
  process.stderr.write('shutting down\n');
  await server.close();
  return 0;
}
