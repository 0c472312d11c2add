import type { AudioChunk } from '../audio/audio-format.js';
import { encodePcmBytes } from '../audio/pcm-bytes.js';
import type { CloseCodeClass } from '../errors/close-codes.js';
import { protocolError } from '../errors/protocol-error.js';
import type { TranscriptionError } from '../errors/transcription-error.js';
import type { WireMessage } from '../transport/socket-driver.js';
import { cutDetail, isJsonObject, jsonObjectBody, parseJsonText } from './json-text.js';
import type {
  DecodedMessage,
  Handshake,
  HandshakeContext,
  ProtocolCodec,
  ProtocolResult,
  RefusalClass,
  TranscriptionProtocol,
} from './protocol.js';

/** A query parameter's value, as {@link DeepgramOptions.query} takes it (arrays repeat the parameter). */
export type QueryValue = string | number | boolean | readonly (string | number | boolean)[];

/** Options of {@link deepgram}: the live-streaming parameters of `/v1/listen`. */
export interface DeepgramOptions {
  /** An API key: `Authorization: Token KEY` in Node, the `token` subprotocol in browsers. */
  readonly apiKey?: string | undefined;
  /**
   * A short-lived access token (a JWT from Deepgram's `/v1/auth/grant`, minted
   * server-side): `Authorization: Bearer JWT` in Node, the `bearer` subprotocol
   * in browsers. The way to go in a browser, where a key would be exposed.
   */
  readonly accessToken?: string | undefined;
  /** The endpoint: `wss://api.deepgram.com` by default; an EU or self-hosted one (`ws://` or `wss://`, or `http(s)://`). */
  readonly baseUrl?: string;
  /** e.g. `'nova-3'`. Default: Deepgram's. */
  readonly model?: string;
  /** e.g. `'en-US'`, `'multi'`. */
  readonly language?: string;
  /** The rate audio is sent at. Default 16000. */
  readonly sampleRate?: number;
  /** Partials (`is_final: false` results). Default true. */
  readonly interimResults?: boolean;
  /** Milliseconds of silence that end speech (`speech_final`), or false to turn it off. Default: Deepgram's (10 ms). */
  readonly endpointing?: number | false;
  /** Send `UtteranceEnd` after this many ms without words (needs interim results): `utterance-end` events. */
  readonly utteranceEndMs?: number;
  /** `SpeechStarted` messages (not events: the library has no use for them yet). */
  readonly vadEvents?: boolean;
  readonly smartFormat?: boolean;
  readonly punctuate?: boolean;
  /** Words and phrases to boost (`keyterm`, Nova-3). */
  readonly keyterms?: readonly string[];
  /** Any other query parameter, passed through as it is (`{ diarize: true, redact: ['pci', 'ssn'] }`). */
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** Send `KeepAlive` when no audio has gone out for this long, in ms. Default 3,000 (Deepgram closes after 10 s). */
  readonly keepAliveMs?: number;
}

const DEFAULT_BASE = 'wss://api.deepgram.com';

/** Query parameters whose values say nothing secret, so errors and logs may show them. */
const SAFE_PARAMS = [
  'model',
  'language',
  'encoding',
  'sample_rate',
  'channels',
  'interim_results',
  'endpointing',
  'utterance_end_ms',
  'vad_events',
  'smart_format',
  'punctuate',
];

const KEEP_ALIVE = '{"type":"KeepAlive"}';
const FINALIZE = '{"type":"Finalize"}';
const CLOSE_STREAM = '{"type":"CloseStream"}';

/**
 * Deepgram's live streaming (`/v1/listen`): configuration in the query
 * string, binary 16-bit PCM, `KeepAlive` while no audio goes out,
 * `Finalize` as the flush, and `CloseStream`, which the server answers with
 * its last `Results`, then `Metadata`, then close 1000. Finals are
 * `is_final` results (`speech_final` marks the end of an utterance); times
 * restart at 0 on every connection and are moved onto one timeline by the
 * session. Close codes and refused handshakes are read as Deepgram documents
 * them (docs/protocols/deepgram.md).
 *
 * @example
 * fromFile('call.wav').pipe(
 *   transcribe({ protocol: deepgram({ apiKey: process.env.DEEPGRAM_API_KEY, model: 'nova-3' }) }),
 * );
 */
export function deepgram(options: DeepgramOptions = {}): TranscriptionProtocol {
  const sampleRate = options.sampleRate ?? 16000;
  if (options.apiKey !== undefined && options.accessToken !== undefined) {
    throw new TypeError('deepgram: give apiKey or accessToken, not both');
  }
  for (const [name, value] of [
    ['apiKey', options.apiKey],
    ['accessToken', options.accessToken],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw new TypeError(`deepgram: ${name} must be a non-empty string`);
    }
  }
  const keepAliveMs = options.keepAliveMs ?? 3000;
  if (!(keepAliveMs > 0) || keepAliveMs >= 10_000) {
    throw new RangeError(
      `deepgram: keepAliveMs must be above 0 and under 10,000 (Deepgram closes an idle stream after 10 s), got ${keepAliveMs}`,
    );
  }
  const interim = options.interimResults ?? true;
  return {
    name: 'deepgram',
    sampleRate,
    // Deepgram answers audio with results as it goes, silence included: interims about every
    // second of audio, finals (empty ones too) every few seconds without interims.
    credit: 'results',
    windowMs: interim ? 3000 : 10_000,
    answersAudio: true,
    endsWith: 'message',
    keepAlive: { message: KEEP_ALIVE, idleMs: keepAliveMs },
    handshake: (context) => deepgramHandshake(options, sampleRate, interim, context),
    classifyClose: classifyDeepgramClose,
    classifyRefusal: classifyDeepgramRefusal,
    codec: () => new DeepgramCodec(),
  };
}

function deepgramHandshake(
  options: DeepgramOptions,
  sampleRate: number,
  interim: boolean,
  context: HandshakeContext,
): Handshake {
  const url = new URL(listenUrl(context.url ?? options.baseUrl ?? DEFAULT_BASE));
  const set = (name: string, value: QueryValue | undefined): void => {
    if (value === undefined) return;
    url.searchParams.delete(name);
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(v));
  };
  set('encoding', 'linear16');
  set('sample_rate', sampleRate);
  set('channels', 1);
  set('model', options.model);
  set('language', options.language);
  set('interim_results', interim);
  set('endpointing', options.endpointing);
  set('utterance_end_ms', options.utteranceEndMs);
  set('vad_events', options.vadEvents);
  set('smart_format', options.smartFormat);
  set('punctuate', options.punctuate);
  set('keyterm', options.keyterms);
  for (const [name, value] of Object.entries(options.query ?? {})) set(name, value);
  const secret = options.apiKey ?? options.accessToken;
  const scheme = options.apiKey !== undefined ? 'Token' : 'Bearer';
  const auth: Pick<Handshake, 'headers' | 'protocols'> =
    secret === undefined
      ? {}
      : context.headersAllowed
        ? { headers: { Authorization: `${scheme} ${secret}` } }
        : { protocols: [scheme.toLowerCase(), secret] };
  return {
    url: url.toString(),
    ...auth,
    ...(secret !== undefined ? { secrets: [secret] } : {}),
    safeQueryParams: SAFE_PARAMS,
  };
}

/** The `/v1/listen` URL of a base: http(s) becomes ws(s), and a bare host gets the path. */
function listenUrl(base: string): string {
  const url = new URL(base.replace(/^http(s?):/i, 'ws$1:'));
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/v1/listen';
  return url.toString();
}

/** Deepgram's close codes (docs/protocols/deepgram.md): bad audio is final; an idle close is worth a retry. */
function classifyDeepgramClose(code: number, reason: string): CloseCodeClass | undefined {
  if (code === 1008 && /data-?\d{4}/i.test(reason)) return { kind: 'bad-audio', retryable: false };
  if (code === 1011 && /net-?0001/i.test(reason)) return { kind: 'timeout', retryable: true };
  if (code === 1011 && /net-?\d{4}/i.test(reason)) return { kind: 'network', retryable: true };
  return undefined;
}

/** A refused upgrade: Deepgram says why in a JSON body (`err_msg`, or `message` in newer errors). */
function classifyDeepgramRefusal(status: number, body: string | undefined): RefusalClass | undefined {
  const detail = refusalDetail(body);
  const explained = detail !== undefined ? { detail: `Deepgram says: ${detail}` } : {};
  if (status === 400) return { kind: 'protocol', retryable: false, ...explained };
  if (status === 401 || status === 403) return { kind: 'auth', retryable: false, ...explained };
  if (status === 402) {
    return {
      kind: 'auth',
      retryable: false,
      detail: `Deepgram says: ${detail ?? 'payment required'} (the project is out of credit)`,
    };
  }
  return detail !== undefined ? explained : undefined;
}

function refusalDetail(body: string | undefined): string | undefined {
  const b = jsonObjectBody(body);
  if (b === undefined) return undefined;
  const message = [b.err_msg, b.message, b.details].find(
    (v): v is string => typeof v === 'string' && v !== '',
  );
  if (message === undefined) return undefined;
  const code = [b.err_code, b.category].find((v): v is string => typeof v === 'string' && v !== '');
  const text = code !== undefined ? `${message} (${code})` : message;
  return cutDetail(text);
}

function malformed(detail: string, data: WireMessage): TranscriptionError {
  return protocolError('Deepgram', detail, data, 'read');
}

const ms = (seconds: number): number => Math.round(seconds * 1000);

const NOTHING: DecodedMessage = { results: [] };
const ENDED: DecodedMessage = { results: [], ended: true };

/** One connection's Deepgram messages (no state of its own: every message stands alone). */
class DeepgramCodec implements ProtocolCodec {
  start(): readonly WireMessage[] {
    return [];
  }

  encodeAudio(frame: AudioChunk): WireMessage {
    return encodePcmBytes(frame.samples);
  }

  flush(): readonly WireMessage[] {
    return [FINALIZE];
  }

  end(): readonly WireMessage[] {
    return [CLOSE_STREAM];
  }

  decode(data: WireMessage): DecodedMessage {
    const message = parseJsonText(data, malformed);
    if (!isJsonObject(message) || typeof message.type !== 'string') throw malformed('no "type"', data);
    switch (message.type) {
      case 'Results':
        return { results: [decodeResults(message, data)] };
      case 'Metadata':
        // Sent once the stream is closed: the answer to CloseStream is complete.
        return ENDED;
      case 'UtteranceEnd': {
        const at = message.last_word_end;
        if (typeof at !== 'number' || !Number.isFinite(at)) {
          throw malformed('an UtteranceEnd without a numeric "last_word_end"', data);
        }
        // Deepgram sends -1 when no word came before: nothing to mark.
        return at >= 0 ? { results: [], utteranceEndMs: ms(at) } : NOTHING;
      }
      default:
        // SpeechStarted, and message types of later API versions: nothing to take.
        return NOTHING;
    }
  }
}

function decodeResults(message: Record<string, unknown>, data: WireMessage): ProtocolResult {
  const { start, duration } = message;
  if (typeof start !== 'number' || typeof duration !== 'number') {
    throw malformed('Results without numeric "start" and "duration"', data);
  }
  const channel = message.channel;
  const alternatives = isJsonObject(channel) ? channel.alternatives : undefined;
  const best: unknown = Array.isArray(alternatives) ? alternatives[0] : undefined;
  if (!isJsonObject(best) || typeof best.transcript !== 'string') {
    throw malformed('Results without channel.alternatives[0].transcript', data);
  }
  const list = best.words ?? [];
  if (!Array.isArray(list)) throw malformed('Results whose "words" is not a list', data);
  const words = list.map((w: unknown) => {
    if (
      !isJsonObject(w) ||
      typeof w.word !== 'string' ||
      typeof w.start !== 'number' ||
      typeof w.end !== 'number'
    ) {
      throw malformed('a word without "word", "start" and "end"', data);
    }
    if (w.confidence !== undefined && typeof w.confidence !== 'number') {
      throw malformed('a word whose "confidence" is not a number', data);
    }
    const text =
      typeof w.punctuated_word === 'string' && w.punctuated_word !== '' ? w.punctuated_word : w.word;
    return {
      text,
      startMs: ms(w.start),
      endMs: ms(w.end),
      ...(w.confidence !== undefined ? { confidence: w.confidence } : {}),
    };
  });
  const isFinal = message.is_final === true;
  return {
    type: isFinal ? 'final' : 'partial',
    text: best.transcript.trim(),
    words,
    startMs: ms(start),
    endMs: ms(start + duration),
    ...(isFinal ? { endOfUtterance: message.speech_final === true } : {}),
  };
}
