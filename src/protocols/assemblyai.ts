import type { AudioChunk } from '../audio/audio-format.js';
import { encodePcmBytes } from '../audio/pcm-bytes.js';
import type { CloseCodeClass } from '../errors/close-codes.js';
import { protocolError } from '../errors/protocol-error.js';
import { TranscriptionError } from '../errors/transcription-error.js';
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

/** A query parameter's value, as {@link AssemblyAIOptions.query} takes it. */
export type AssemblyAIQueryValue = string | number | boolean;

/** Options of {@link assemblyai}: the parameters of Universal-Streaming v3 (`/v3/ws`). */
export interface AssemblyAIOptions {
  /** An API key: sent raw in the `Authorization` header. Node only (a browser cannot set headers). */
  readonly apiKey?: string | undefined;
  /**
   * A temporary token, minted server-side with `GET /v3/token` (docs/protocols/assemblyai.md):
   * sent as `?token=`. The way to go in a browser. A token opens one session only, so a
   * reconnect with it is refused (1008, fatal).
   */
  readonly token?: string | undefined;
  /** The endpoint: `wss://streaming.assemblyai.com` by default (or the EU one, or the reference server). */
  readonly baseUrl?: string;
  /** e.g. `'universal-streaming-english'`, `'universal-streaming-multilingual'`, `'u3-rt-pro'`. */
  readonly speechModel?: string;
  /** Formatted finals (punctuation, casing): one final per turn, the formatted one. Default false. */
  readonly formatTurns?: boolean;
  /** Silence (ms) after which a confident end of turn is declared. */
  readonly minTurnSilence?: number;
  /** Silence (ms) after which a turn ends whatever the confidence. */
  readonly maxTurnSilence?: number;
  /** Confidence (0 to 1) the model needs to end a turn. */
  readonly endOfTurnConfidenceThreshold?: number;
  /** Words and phrases to boost. */
  readonly keytermsPrompt?: readonly string[];
  /**
   * Seconds (5 to 3,600) without audio after which the server ends the session; the
   * adapter then sends `KeepAlive` while no audio goes out. Default: none (no timeout).
   */
  readonly inactivityTimeout?: number;
  /** The rate audio is sent at. Default 16000. */
  readonly sampleRate?: number;
  /** Any other query parameter, passed through as it is (`{ speaker_labels: true }`). */
  readonly query?: Readonly<Record<string, AssemblyAIQueryValue>>;
}

const DEFAULT_BASE = 'wss://streaming.assemblyai.com';
const PATH = '/v3/ws';
/** AssemblyAI's longest session (3 h, close 3008): the session moves to a new connection before it. */
const SESSION_LIMIT_MS = 3 * 60 * 60 * 1000;

/** Query parameters whose values say nothing secret, so errors and logs may show them. */
const SAFE_PARAMS = [
  'sample_rate',
  'encoding',
  'speech_model',
  'format_turns',
  'min_turn_silence',
  'max_turn_silence',
  'end_of_turn_confidence_threshold',
  'inactivity_timeout',
];

const KEEP_ALIVE = '{"type":"KeepAlive"}';
const FORCE_ENDPOINT = '{"type":"ForceEndpoint"}';
const TERMINATE = '{"type":"Terminate"}';

/**
 * AssemblyAI's Universal-Streaming v3 (`/v3/ws`): configuration in the query
 * string, binary 16-bit PCM in frames of 50 to 1,000 ms (`frameMs` is clamped
 * into them) at real-time pace (the sender paces a file), audio only after
 * `Begin`, `ForceEndpoint` as the flush, and `Terminate`, answered by the last
 * turn and `Termination`. Partial turns are partial events; end-of-turn
 * turns are finals (with `formatTurns`, the formatted copy only). Word times
 * are ms from the connection's start. `Error` messages and the close codes
 * 3005 to 3009 and 1008 are classified as docs/protocols/assemblyai.md says;
 * the 3-hour session limit (3008) is met by moving to a new connection before it.
 *
 * @example
 * fromFile('call.wav').pipe(
 *   transcribe({ protocol: assemblyai({ apiKey: process.env.ASSEMBLYAI_API_KEY, formatTurns: true }) }),
 * );
 */
export function assemblyai(options: AssemblyAIOptions = {}): TranscriptionProtocol {
  const sampleRate = options.sampleRate ?? 16000;
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`assemblyai: sampleRate must be a positive whole number, got ${sampleRate}`);
  }
  if (options.apiKey !== undefined && options.token !== undefined) {
    throw new TypeError('assemblyai: give apiKey or token, not both');
  }
  for (const [name, value] of [
    ['apiKey', options.apiKey],
    ['token', options.token],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw new TypeError(`assemblyai: ${name} must be a non-empty string`);
    }
  }
  const inactivity = options.inactivityTimeout;
  if (inactivity !== undefined && !(inactivity >= 5 && inactivity <= 3600)) {
    throw new RangeError(`assemblyai: inactivityTimeout must be 5 to 3,600 seconds, got ${inactivity}`);
  }
  const threshold = options.endOfTurnConfidenceThreshold;
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
    throw new RangeError(`assemblyai: endOfTurnConfidenceThreshold must be from 0 to 1, got ${threshold}`);
  }
  const formatTurns = options.formatTurns === true;
  return {
    name: 'assemblyai',
    sampleRate,
    // Nothing answers audio as it goes: the socket's drain is the credit, and real-time
    // pacing bounds what is in flight.
    credit: 'drain',
    answersAudio: false,
    endsWith: 'message',
    awaitsReady: true,
    realtime: true,
    frameLimitsMs: { min: 50, max: 1000 },
    connectionLimitMs: SESSION_LIMIT_MS,
    // The server ends an idle session only with inactivity_timeout: KeepAlive well inside it.
    ...(inactivity !== undefined
      ? { keepAlive: { message: KEEP_ALIVE, idleMs: Math.min(5000, (inactivity * 1000) / 3) } }
      : {}),
    handshake: (context) => assemblyaiHandshake(options, sampleRate, context),
    classifyClose: classifyAssemblyAIClose,
    classifyRefusal: classifyAssemblyAIRefusal,
    codec: () => new AssemblyAICodec(formatTurns),
  };
}

function assemblyaiHandshake(
  options: AssemblyAIOptions,
  sampleRate: number,
  context: HandshakeContext,
): Handshake {
  if (options.apiKey !== undefined && !context.headersAllowed) {
    throw new TypeError(
      'assemblyai: a browser cannot send an API key (AssemblyAI takes it in a header only); mint a temporary token on your server (GET /v3/token) and pass it as `token`',
    );
  }
  const url = new URL(streamingUrl(context.url ?? options.baseUrl ?? DEFAULT_BASE));
  const set = (name: string, value: AssemblyAIQueryValue | undefined): void => {
    if (value !== undefined) url.searchParams.set(name, String(value));
  };
  set('sample_rate', sampleRate);
  set('encoding', 'pcm_s16le');
  set('speech_model', options.speechModel);
  if (options.formatTurns !== undefined) set('format_turns', options.formatTurns);
  set('min_turn_silence', options.minTurnSilence);
  set('max_turn_silence', options.maxTurnSilence);
  set('end_of_turn_confidence_threshold', options.endOfTurnConfidenceThreshold);
  if (options.keytermsPrompt !== undefined) set('keyterms_prompt', JSON.stringify(options.keytermsPrompt));
  set('inactivity_timeout', options.inactivityTimeout);
  for (const [name, value] of Object.entries(options.query ?? {})) set(name, value);
  if (options.token !== undefined) url.searchParams.set('token', options.token);
  const secret = options.apiKey ?? options.token;
  return {
    url: url.toString(),
    ...(options.apiKey !== undefined ? { headers: { Authorization: options.apiKey } } : {}),
    ...(secret !== undefined ? { secrets: [secret] } : {}),
    safeQueryParams: SAFE_PARAMS,
  };
}

/** The `/v3/ws` URL of a base: http(s) becomes ws(s), and a bare host gets the path. */
function streamingUrl(base: string): string {
  const url = new URL(base.replace(/^http(s?):/i, 'ws$1:'));
  if (url.pathname === '' || url.pathname === '/') url.pathname = PATH;
  return url.toString();
}

/**
 * AssemblyAI's codes (docs/protocols/assemblyai.md has the table and the why):
 * 3005 server, retried; 3006 a bad message or parameter, final; 3007 a frame
 * out of 50-1,000 ms is final, audio faster than real time is retried (the
 * pacing resumes on a new connection); 3008 the session limit, retried (the
 * session rotates before it, so it is rare); 3009 too many sessions, retried
 * with backoff; 1008 unauthorised, final, unless it says the concurrency limit.
 */
function classifyCode(code: number, text: string): CloseCodeClass | undefined {
  switch (code) {
    case 3005:
      return { kind: 'server', retryable: true };
    case 3006:
      return { kind: 'protocol', retryable: false };
    case 3007:
      return /rate|real.?time|too fast/i.test(text)
        ? { kind: 'rate-limit', retryable: true }
        : { kind: 'protocol', retryable: false };
    case 3008:
      return { kind: 'timeout', retryable: true };
    case 3009:
      return { kind: 'rate-limit', retryable: true };
    case 1008:
      return /concurren|too many/i.test(text)
        ? { kind: 'rate-limit', retryable: true }
        : { kind: 'auth', retryable: false };
    default:
      return undefined;
  }
}

function classifyAssemblyAIClose(code: number, reason: string): CloseCodeClass | undefined {
  return classifyCode(code, reason);
}

/** A refused upgrade (a proxy, or a future API): AssemblyAI says why in `{error}`. */
function classifyAssemblyAIRefusal(status: number, body: string | undefined): RefusalClass | undefined {
  const detail = refusalDetail(body);
  const explained = detail !== undefined ? { detail: `AssemblyAI says: ${detail}` } : {};
  if (status === 400) return { kind: 'protocol', retryable: false, ...explained };
  if (status === 401 || status === 403) return { kind: 'auth', retryable: false, ...explained };
  return detail !== undefined ? explained : undefined;
}

function refusalDetail(body: string | undefined): string | undefined {
  const parsed = jsonObjectBody(body);
  if (parsed === undefined) return undefined;
  const message = [parsed.error, parsed.message].find((v): v is string => typeof v === 'string' && v !== '');
  return message === undefined ? undefined : cutDetail(message);
}

function malformed(detail: string, data: WireMessage): TranscriptionError {
  return protocolError('AssemblyAI', detail, data, 'read');
}

const NOTHING: DecodedMessage = { results: [] };
const READY: DecodedMessage = { results: [], ready: true };
const ENDED: DecodedMessage = { results: [], ended: true };

/**
 * One connection's AssemblyAI messages. With formatted turns, an end of turn
 * comes twice, as it is and then formatted: the unformatted copy is held back
 * and the formatted one is the turn's final. Should the formatted copy not
 * follow (a model or server that sends none), the held one is emitted before
 * whatever comes next, so no turn is lost for want of formatting.
 */
class AssemblyAICodec implements ProtocolCodec {
  /** An unformatted end of turn waiting for its formatted copy. */
  private held: { readonly order: unknown; readonly result: ProtocolResult } | undefined;

  constructor(private readonly formatTurns: boolean) {}

  start(): readonly WireMessage[] {
    return [];
  }

  encodeAudio(frame: AudioChunk): WireMessage {
    return encodePcmBytes(frame.samples);
  }

  flush(): readonly WireMessage[] {
    return [FORCE_ENDPOINT];
  }

  end(): readonly WireMessage[] {
    return [TERMINATE];
  }

  decode(data: WireMessage): DecodedMessage {
    const message = parseJsonText(data, malformed);
    if (!isJsonObject(message) || typeof message.type !== 'string') throw malformed('no "type"', data);
    switch (message.type) {
      case 'Begin':
        return READY;
      case 'Turn':
        return this.turn(message, data);
      case 'Termination':
        return { ...ENDED, results: this.release() };
      case 'Error':
        return { results: [], error: serverError(message, data) };
      default:
        // SpeechStarted, Warning, Heartbeat, Silence, and types of later versions: nothing to take.
        return NOTHING;
    }
  }

  private turn(message: Record<string, unknown>, data: WireMessage): DecodedMessage {
    const { transcript, end_of_turn: endOfTurn, turn_is_formatted: formatted, turn_order: order } = message;
    if (typeof transcript !== 'string' || typeof endOfTurn !== 'boolean') {
      throw malformed('a Turn without a string "transcript" and a boolean "end_of_turn"', data);
    }
    if (order !== undefined && (typeof order !== 'number' || !Number.isInteger(order) || order < 0)) {
      throw malformed('a Turn whose "turn_order" is not a whole number', data);
    }
    const list = message.words ?? [];
    if (!Array.isArray(list)) throw malformed('a Turn whose "words" is not a list', data);
    const words = list.map((w: unknown) => {
      if (
        !isJsonObject(w) ||
        typeof w.text !== 'string' ||
        typeof w.start !== 'number' ||
        typeof w.end !== 'number'
      ) {
        throw malformed('a word without "text", "start" and "end"', data);
      }
      if (w.confidence !== undefined && typeof w.confidence !== 'number') {
        throw malformed('a word whose "confidence" is not a number', data);
      }
      return {
        text: w.text,
        startMs: w.start,
        endMs: w.end,
        ...(w.confidence !== undefined ? { confidence: w.confidence } : {}),
      };
    });
    const result: ProtocolResult = {
      type: endOfTurn ? 'final' : 'partial',
      text: transcript.trim(),
      words,
      ...(endOfTurn ? { endOfUtterance: true } : {}),
      ...(order !== undefined ? { id: String(order) } : {}),
    };
    if (!this.formatTurns) return { results: [result] };
    // The formatted copy of the held turn replaces it; anything else lets it go first.
    const held =
      this.held !== undefined && formatted === true && endOfTurn && this.held.order === order
        ? []
        : this.release();
    if (endOfTurn && formatted !== true) {
      this.held = { order, result };
      return held.length > 0 ? { results: held } : NOTHING;
    }
    this.held = undefined;
    return { results: [...held, result] };
  }

  /** The held unformatted end of turn, if any, now. */
  private release(): ProtocolResult[] {
    const held = this.held;
    this.held = undefined;
    return held !== undefined ? [held.result] : [];
  }
}

/** An `Error` message: AssemblyAI's code (the close that follows) classified, its text quoted. */
function serverError(message: Record<string, unknown>, data: WireMessage): TranscriptionError {
  const text = typeof message.error === 'string' ? message.error : undefined;
  const code = message.error_code;
  if (text === undefined || (code !== undefined && typeof code !== 'number')) {
    throw malformed('an Error without a string "error" and a numeric "error_code"', data);
  }
  const known = typeof code === 'number' ? classifyCode(code, text) : undefined;
  const { kind, retryable } = known ?? { kind: 'server' as const, retryable: true };
  const codeText = typeof code === 'number' ? ` ${code}` : '';
  return new TranscriptionError(`the AssemblyAI server reported an error${codeText}: ${cutDetail(text)}`, {
    kind,
    retryable,
    ...(typeof code === 'number' ? { closeCode: code, closeReason: cutDetail(text) } : {}),
  });
}
