import type { AudioChunk } from '../audio/audio-format.js';
import type { CloseCodeClass } from '../errors/close-codes.js';
import { protocolError } from '../errors/protocol-error.js';
import { TranscriptionError, type TranscriptionErrorKind } from '../errors/transcription-error.js';
import type { WireMessage } from '../transport/socket-driver.js';
import { cutDetail, isJsonObject, jsonObjectBody, parseJsonText } from './json-text.js';
import { type ChainItem, ItemChain } from './openai-item-chain.js';
import { pcmBase64 } from './pcm-base64.js';
import type {
  DecodedMessage,
  Handshake,
  HandshakeContext,
  ProtocolCodec,
  ProtocolResult,
  RefusalClass,
  TranscriptionProtocol,
} from './protocol.js';

/** Server VAD, as {@link OpenAIRealtimeOptions.turnDetection} takes it. */
export interface OpenAIServerVad {
  readonly type: 'server_vad';
  /** Activation threshold, 0 to 1 (OpenAI's default 0.5). */
  readonly threshold?: number;
  /** Audio kept before detected speech, ms (default 300). */
  readonly prefixPaddingMs?: number;
  /** Silence that ends speech, ms (default 500). */
  readonly silenceDurationMs?: number;
}

/** Semantic VAD: a model decides when the speaker has finished. */
export interface OpenAISemanticVad {
  readonly type: 'semantic_vad';
  readonly eagerness?: 'low' | 'medium' | 'high' | 'auto';
}

/** Options of {@link openaiRealtime}: a Realtime transcription session (`/v1/realtime?intent=transcription`). */
export interface OpenAIRealtimeOptions {
  /** An API key (`sk-…`): `Authorization: Bearer KEY` in Node. Never ship one to a browser. */
  readonly apiKey?: string | undefined;
  /**
   * An ephemeral client secret (`ek_…`, from `POST /v1/realtime/client_secrets`,
   * minted server-side): the way to go in a browser, where it is offered in the
   * subprotocols `realtime, openai-insecure-api-key.SECRET`.
   */
  readonly clientSecret?: string | undefined;
  /** `wss://api.openai.com/v1` by default; an `https://…/v1` base as the SDK's `baseURL` takes, or the reference server. */
  readonly baseUrl?: string;
  /** The transcription model. Default `gpt-4o-transcribe`. */
  readonly model?: string;
  /** ISO-639-1 language of the speech (`en`): better accuracy and latency. */
  readonly language?: string;
  /** Text to guide the model (terms, style). */
  readonly prompt?: string;
  /**
   * How audio becomes items: server VAD (the default: an item per stretch of
   * speech), semantic VAD, or `null` for none (the client commits: at the end
   * of the stream and on `flush()`).
   */
  readonly turnDetection?: 'server_vad' | OpenAIServerVad | OpenAISemanticVad | null;
  /** Input noise reduction (`near_field` for headsets, `far_field` for laptops), or null for none. Default: the server's. */
  readonly noiseReduction?: 'near_field' | 'far_field' | null;
  /**
   * Move to a new connection after this long, at an item's completion (OpenAI
   * ends a session at 60 minutes with `session_expired`). Default 55 minutes.
   */
  readonly connectionLimitMs?: number;
  /**
   * Send audio no faster than real time, as a live source does. OpenAI says
   * nothing per audio frame, so credit is the socket's drain: a file goes out
   * as fast as the socket takes it, and a connection that drops with more
   * unanswered audio in flight than `maxReplayMs` loses the oldest of it
   * (counted in `replayDroppedMs`). Pacing keeps what is in flight to what the
   * server has had time to answer: set it for files over links that drop.
   * Default false.
   */
  readonly pace?: boolean;
}

const DEFAULT_BASE = 'wss://api.openai.com/v1';
const DEFAULT_MODEL = 'gpt-4o-transcribe';
/** OpenAI's 60 minutes, less the time an item may take to complete once the limit is reached. */
const DEFAULT_CONNECTION_LIMIT_MS = 55 * 60 * 1000;
const SESSION_LIMIT_MS = 60 * 60 * 1000;
/** The only rate of `audio/pcm`. */
const RATE = 24000;
/** Around the base64 of a frame: the JSON is built once, no object, no JSON.stringify of the audio. */
const APPEND_HEAD = '{"type":"input_audio_buffer.append","audio":"';
const APPEND_TAIL = '"}';
/** The prefix of the subprotocol that carries the key in browsers. */
const KEY_PROTOCOL = 'openai-insecure-api-key.';

/**
 * OpenAI's Realtime API as a transcription session: `session.update` (24 kHz
 * PCM16, the model, turn detection) before any audio, audio as base64 in
 * `input_audio_buffer.append` JSON, items committed by server VAD or by the
 * client (`input_audio_buffer.commit` on flush and at the end), their
 * transcripts as deltas (partials) and a completion (the final), released in
 * the order the server committed them. There are no word times: each final
 * carries its item's span (VAD's `speech_started`/`speech_stopped`, or the
 * commit point), which the session finalises and deduplicates by. The end of
 * the stream is a commit and the completion of every item before it. Sessions
 * are moved to a new connection before OpenAI's 60-minute limit.
 * See docs/protocols/openai-realtime.md.
 *
 * @example
 * fromFile('call.wav').pipe(
 *   transcribe({ protocol: openaiRealtime({ apiKey: process.env.OPENAI_API_KEY, language: 'en' }) }),
 * );
 */
export function openaiRealtime(options: OpenAIRealtimeOptions = {}): TranscriptionProtocol {
  if (options.apiKey !== undefined && options.clientSecret !== undefined) {
    throw new TypeError('openaiRealtime: give apiKey or clientSecret, not both');
  }
  for (const [name, value] of [
    ['apiKey', options.apiKey],
    ['clientSecret', options.clientSecret],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '' || /[\s,]/.test(value))) {
      throw new TypeError(`openaiRealtime: ${name} must be a non-empty string without spaces or commas`);
    }
  }
  const limit = options.connectionLimitMs ?? DEFAULT_CONNECTION_LIMIT_MS;
  if (!(limit > 0) || limit > SESSION_LIMIT_MS) {
    throw new RangeError(
      `openaiRealtime: connectionLimitMs must be above 0 and at most 3,600,000 (OpenAI ends a session at 60 minutes), got ${limit}`,
    );
  }
  const update = sessionUpdate(options);
  return {
    name: 'openai-realtime',
    sampleRate: RATE,
    // Nothing answers audio as it goes (server VAD says nothing over silence): the socket's
    // drain is the credit, and the heartbeat watches the connection.
    credit: 'drain',
    answersAudio: false,
    endsWith: 'message',
    // The server keeps the session open after the last completion: the client closes it.
    closesAfterEnd: false,
    awaitsReady: true,
    ...(options.pace === true ? { realtime: true } : {}),
    connectionLimitMs: limit,
    handshake: (context) => realtimeHandshake(options, context),
    classifyClose: classifyRealtimeClose,
    classifyRefusal: classifyRealtimeRefusal,
    codec: () => new RealtimeCodec(update),
  };
}

function sessionUpdate(options: OpenAIRealtimeOptions): string {
  const transcription: Record<string, string> = { model: options.model ?? DEFAULT_MODEL };
  if (options.language !== undefined) transcription.language = options.language;
  if (options.prompt !== undefined) transcription.prompt = options.prompt;
  const input: Record<string, unknown> = {
    format: { type: 'audio/pcm', rate: RATE },
    transcription,
    turn_detection: turnDetection(options.turnDetection),
  };
  if (options.noiseReduction !== undefined) {
    input.noise_reduction = options.noiseReduction === null ? null : { type: options.noiseReduction };
  }
  return JSON.stringify({ type: 'session.update', session: { type: 'transcription', audio: { input } } });
}

function turnDetection(option: OpenAIRealtimeOptions['turnDetection']): unknown {
  if (option === null) return null;
  if (option === undefined || option === 'server_vad') return { type: 'server_vad' };
  if (option.type === 'semantic_vad') {
    return {
      type: 'semantic_vad',
      ...(option.eagerness !== undefined ? { eagerness: option.eagerness } : {}),
    };
  }
  return {
    type: 'server_vad',
    ...(option.threshold !== undefined ? { threshold: option.threshold } : {}),
    ...(option.prefixPaddingMs !== undefined ? { prefix_padding_ms: option.prefixPaddingMs } : {}),
    ...(option.silenceDurationMs !== undefined ? { silence_duration_ms: option.silenceDurationMs } : {}),
  };
}

function realtimeHandshake(options: OpenAIRealtimeOptions, context: HandshakeContext): Handshake {
  const url = new URL(realtimeUrl(context.url ?? options.baseUrl ?? DEFAULT_BASE));
  url.searchParams.delete('model');
  url.searchParams.set('intent', 'transcription');
  const secret = options.apiKey ?? options.clientSecret;
  const auth: Pick<Handshake, 'headers' | 'protocols'> =
    secret === undefined
      ? {}
      : context.headersAllowed
        ? { headers: { Authorization: `Bearer ${secret}` } }
        : { protocols: ['realtime', `${KEY_PROTOCOL}${secret}`] };
  return {
    url: url.toString(),
    ...auth,
    ...(secret !== undefined ? { secrets: [secret] } : {}),
    safeQueryParams: ['intent'],
  };
}

/** The `/v1/realtime` URL of a base: http(s) becomes ws(s); `/v1` or a bare host gets the path. */
function realtimeUrl(base: string): string {
  const url = new URL(base.replace(/^http(s?):/i, 'ws$1:'));
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '') url.pathname = '/v1/realtime';
  else if (path.endsWith('/v1')) url.pathname = `${path}/realtime`;
  return url.toString();
}

/** What an OpenAI error code or type means for the session. */
function classifyCode(code: string, type: string): { kind: TranscriptionErrorKind; retryable: boolean } {
  if (/invalid_api_key|authentication|unauthori[sz]ed|permission|forbidden/i.test(`${code} ${type}`)) {
    return { kind: 'auth', retryable: false };
  }
  if (/insufficient_quota|billing/i.test(code)) return { kind: 'auth', retryable: false };
  if (/rate_limit/i.test(`${code} ${type}`)) return { kind: 'rate-limit', retryable: true };
  if (code === 'session_expired') return { kind: 'server', retryable: true };
  if (/server_error|overloaded|unavailable/i.test(`${code} ${type}`))
    return { kind: 'server', retryable: true };
  return { kind: 'protocol', retryable: false };
}

/** OpenAI closes a connection it refused a key on with 3000 and `type.code` as the reason. */
function classifyRealtimeClose(code: number, reason: string): CloseCodeClass | undefined {
  if (code !== 3000) return undefined;
  const [type = '', errorCode = ''] = reason.split('.', 2);
  return classifyCode(errorCode, type);
}

/** A refused upgrade: OpenAI says why in `error.message` of a JSON body. */
function classifyRealtimeRefusal(status: number, body: string | undefined): RefusalClass | undefined {
  const error = bodyError(body);
  const explained =
    error?.message !== undefined ? { detail: `OpenAI says: ${cutDetail(error.message)}` } : {};
  if (status === 401 || status === 403) return { kind: 'auth', retryable: false, ...explained };
  if (status === 400 || status === 404) return { kind: 'protocol', retryable: false, ...explained };
  if (status === 429) {
    const quota = error?.code === 'insufficient_quota';
    return { kind: quota ? 'auth' : 'rate-limit', retryable: !quota, ...explained };
  }
  return error?.message !== undefined ? explained : undefined;
}

function bodyError(body: string | undefined): { message?: string; code?: string } | undefined {
  const error = jsonObjectBody(body)?.error;
  if (!isJsonObject(error)) return undefined;
  return {
    ...(typeof error.message === 'string' ? { message: error.message } : {}),
    ...(typeof error.code === 'string' ? { code: error.code } : {}),
  };
}

function malformed(detail: string, data: WireMessage): TranscriptionError {
  return protocolError('OpenAI Realtime', detail, data, 'read');
}

function contradiction(detail: string, data: WireMessage): TranscriptionError {
  return protocolError('OpenAI Realtime', detail, data);
}

const NOTHING: DecodedMessage = { results: [] };
const READY: DecodedMessage = { results: [], ready: true };

/** A commit this client sent: where the audio it commits ends. */
interface SentCommit {
  readonly eventId: string;
  readonly atMs: number;
  readonly isEnd: boolean;
}

/**
 * One connection's Realtime transcription session: the audio encoded (for
 * commit points), VAD spans by item, the items in commit order, and whether
 * the end's commit has been answered.
 */
class RealtimeCodec implements ProtocolCodec {
  private encodedSamples = 0;
  private commits: SentCommit[] = [];
  private commitCount = 0;
  private readonly chain = new ItemChain();
  private readonly speechStart = new Map<string, number>();
  private readonly speechEnd = new Map<string, number>();
  /** Where the last committed item's audio ends (the next starts no earlier). */
  private committedEndMs = 0;
  private endSent = false;
  private endAnswered = false;
  private endedSaid = false;

  constructor(private readonly update: string) {}

  start(): readonly WireMessage[] {
    return [this.update];
  }

  encodeAudio(frame: AudioChunk): WireMessage {
    const samples = frame.samples as Int16Array;
    this.encodedSamples += samples.length;
    return APPEND_HEAD + pcmBase64(samples) + APPEND_TAIL;
  }

  flush(): readonly WireMessage[] {
    return [this.commit(false)];
  }

  end(): readonly WireMessage[] {
    this.endSent = true;
    return [this.commit(true)];
  }

  private commit(isEnd: boolean): string {
    const eventId = `rxjs_commit_${++this.commitCount}`;
    this.commits.push({ eventId, atMs: (this.encodedSamples * 1000) / RATE, isEnd });
    return `{"type":"input_audio_buffer.commit","event_id":"${eventId}"}`;
  }

  decode(data: WireMessage): DecodedMessage {
    const message = parseJsonText(data, malformed);
    if (!isJsonObject(message) || typeof message.type !== 'string') throw malformed('no "type"', data);
    switch (message.type) {
      case 'session.updated':
        return READY;
      case 'input_audio_buffer.speech_started':
        this.speechStart.set(itemId(message, data), msField(message, 'audio_start_ms', data));
        return NOTHING;
      case 'input_audio_buffer.speech_stopped':
        this.speechEnd.set(itemId(message, data), msField(message, 'audio_end_ms', data));
        return NOTHING;
      case 'input_audio_buffer.committed':
        return this.onCommitted(message, data);
      case 'conversation.item.input_audio_transcription.delta':
        return this.onDelta(message, data);
      case 'conversation.item.input_audio_transcription.completed':
        return this.onCompleted(message, data);
      case 'conversation.item.input_audio_transcription.failed':
        return { results: [], error: this.failed(message) };
      case 'error':
        return this.onError(message, data);
      default:
        // session.created, conversation.item.added/done, rate_limits.updated, later types.
        return NOTHING;
    }
  }

  private onCommitted(message: Record<string, unknown>, data: WireMessage): DecodedMessage {
    const id = itemId(message, data);
    const previous = message.previous_item_id ?? null;
    if (previous !== null && typeof previous !== 'string') {
      throw malformed('a committed item whose "previous_item_id" is not a string or null', data);
    }
    // Server VAD's commits follow its speech_stopped; the others answer this client's commits, in order.
    let endMs = this.speechEnd.get(id);
    if (endMs === undefined) {
      const sent = this.commits.shift();
      if (sent !== undefined) {
        endMs = sent.atMs;
        if (sent.isEnd) this.endAnswered = true;
      }
    }
    const spoken = this.speechStart.get(id);
    const startMs = Math.max(this.committedEndMs, spoken ?? this.committedEndMs);
    const span = endMs !== undefined ? { startMs: Math.min(startMs, endMs), endMs } : {};
    const problem = this.chain.commit(id, previous, span);
    if (problem !== undefined) throw contradiction(problem, data);
    if (endMs !== undefined) this.committedEndMs = Math.max(this.committedEndMs, endMs);
    this.speechStart.delete(id);
    this.speechEnd.delete(id);
    return this.endIfDone(NOTHING);
  }

  private onDelta(message: Record<string, unknown>, data: WireMessage): DecodedMessage {
    const id = itemId(message, data);
    const delta = message.delta ?? '';
    if (typeof delta !== 'string') throw malformed('a delta whose "delta" is not a string', data);
    const item = this.chain.delta(id, delta);
    if (typeof item === 'string') throw contradiction(item, data);
    // A partial for the item the transcript is at; the deltas of later items wait in them.
    if (this.chain.head() !== item || item.text.trim() === '') return NOTHING;
    return { results: [result(item, 'partial', item.text.trim())] };
  }

  private onCompleted(message: Record<string, unknown>, data: WireMessage): DecodedMessage {
    const id = itemId(message, data);
    const transcript = message.transcript;
    if (typeof transcript !== 'string') throw malformed('a completion without a string "transcript"', data);
    const released = this.chain.complete(id, transcript);
    if (typeof released === 'string') throw contradiction(released, data);
    const results = released.map((item) => result(item, 'final', (item.transcript ?? '').trim()));
    return this.endIfDone(results.length > 0 ? { results } : NOTHING);
  }

  private onError(message: Record<string, unknown>, data: WireMessage): DecodedMessage {
    const error = message.error;
    if (!isJsonObject(error)) throw malformed('an error event without an "error" object', data);
    const code = typeof error.code === 'string' ? error.code : '';
    const type = typeof error.type === 'string' ? error.type : '';
    const text = typeof error.message === 'string' ? cutDetail(error.message) : '(no message)';
    const eventId = typeof error.event_id === 'string' ? error.event_id : undefined;
    // A commit of an empty buffer (server VAD committed it all already) answers that commit: nothing to add.
    if (code === 'input_audio_buffer_commit_empty' && eventId !== undefined) {
      const index = this.commits.findIndex((c) => c.eventId === eventId);
      if (index >= 0) {
        const [sent] = this.commits.splice(index, 1);
        if (sent!.isEnd) this.endAnswered = true;
        return this.endIfDone(NOTHING);
      }
    }
    const { kind, retryable } = classifyCode(code, type);
    const why =
      code === 'session_expired'
        ? `the OpenAI Realtime session reached its time limit (session_expired: ${text}); lower connectionLimitMs to move to a new connection before it`
        : kind === 'auth'
          ? `OpenAI refused the credentials (${code || type}: ${text}); check the API key or mint a new client secret`
          : kind === 'rate-limit'
            ? `OpenAI's rate limit was reached (${code || type}: ${text})`
            : `OpenAI reported an error (${[type, code].filter(Boolean).join(', ') || 'error'}: ${text})`;
    return { results: [], error: new TranscriptionError(why, { kind, retryable }) };
  }

  private failed(message: Record<string, unknown>): TranscriptionError {
    const error = isJsonObject(message.error) ? message.error : {};
    const text = typeof error.message === 'string' ? cutDetail(error.message) : '(no message)';
    const id = typeof message.item_id === 'string' ? message.item_id : '?';
    // Its audio is not finalised: a new connection sends it again.
    return new TranscriptionError(`OpenAI could not transcribe item ${id} (${text})`, {
      kind: 'server',
      retryable: true,
    });
  }

  /** Once the end's commit is answered and every item before it completed, the stream has ended. */
  private endIfDone(decoded: DecodedMessage): DecodedMessage {
    if (!this.endSent || !this.endAnswered || this.endedSaid || this.chain.pending > 0) return decoded;
    this.endedSaid = true;
    return { ...decoded, ended: true };
  }
}

function result(item: ChainItem, type: 'partial' | 'final', text: string): ProtocolResult {
  const span =
    item.startMs !== undefined && item.endMs !== undefined
      ? { startMs: item.startMs, endMs: item.endMs }
      : {};
  return {
    type,
    text,
    words: [],
    ...span,
    ...(type === 'final' ? { endOfUtterance: true } : {}),
    id: item.id,
  };
}

function itemId(message: Record<string, unknown>, data: WireMessage): string {
  const id = message.item_id;
  if (typeof id !== 'string' || id === '')
    throw malformed(`a ${String(message.type)} without an "item_id"`, data);
  return id;
}

function msField(message: Record<string, unknown>, name: string, data: WireMessage): number {
  const value = message[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw malformed(`a ${String(message.type)} without a numeric "${name}"`, data);
  }
  return value;
}
