/**
 * The messages a Deepgram `/v1/listen` server sends, in Deepgram's shapes, and
 * builders for them. The types are mutable on purpose: they are wire shapes,
 * and `spec/server/deepgram-types.spec.ts` checks them against the types of
 * Deepgram's own SDK (`@deepgram/sdk`), which are mutable.
 */

/** Which model answered, as Deepgram names one: `{name, version, arch}`. */
export interface DeepgramModelInfo {
  name: string;
  version: string;
  arch: string;
}

/** One recognised word. Times in seconds from the start of the connection's audio. */
export interface DeepgramWord {
  word: string;
  start: number;
  end: number;
  confidence: number;
  /** Present when the request asked for `punctuate` or `smart_format`. */
  punctuated_word?: string;
}

/** A transcript of a span of audio: an interim (`is_final: false`) or a final. */
export interface DeepgramResults {
  type: 'Results';
  /** `[channel, channels]`: always `[0, 1]` here (mono). */
  channel_index: number[];
  /** Seconds of audio the result covers, from `start`. */
  duration: number;
  /** Seconds from the start of the connection's audio. */
  start: number;
  is_final: boolean;
  /** The final ends an utterance (an endpoint, a pause). */
  speech_final: boolean;
  /** The final answers a `Finalize` message. */
  from_finalize: boolean;
  channel: {
    alternatives: Array<{ transcript: string; confidence: number; words: DeepgramWord[] }>;
  };
  metadata: { request_id: string; model_info: DeepgramModelInfo; model_uuid: string };
}

/** The summary Deepgram sends before it closes a connection. */
export interface DeepgramMetadata {
  type: 'Metadata';
  transaction_key: 'deprecated';
  request_id: string;
  /** SHA-256 of the audio bytes received, in hex. */
  sha256: string;
  /** When the connection opened (ISO 8601). */
  created: string;
  /** Seconds of audio received. */
  duration: number;
  channels: number;
  /** Present once audio was processed, as Deepgram does. */
  models?: string[];
  model_info?: Record<string, DeepgramModelInfo>;
}

/** A gap of `utterance_end_ms` after the last final word (`utterance_end_ms` set). */
export interface DeepgramUtteranceEnd {
  type: 'UtteranceEnd';
  channel: number[];
  last_word_end: number;
}

/** Speech began, at `timestamp` seconds (`vad_events=true`). */
export interface DeepgramSpeechStarted {
  type: 'SpeechStarted';
  channel: number[];
  timestamp: number;
}

/** A client text message the server could not use; the connection stays open. */
export interface DeepgramError {
  type: 'Error';
  variant: string;
  description: string;
  /** The message received, as it was. */
  message: string;
}

/** Any message the server sends on a `/v1/listen` connection. */
export type DeepgramServerMessage =
  | DeepgramResults
  | DeepgramMetadata
  | DeepgramUtteranceEnd
  | DeepgramSpeechStarted
  | DeepgramError;

/** What every message of one connection shares. */
export interface ConnectionIdentity {
  readonly requestId: string;
  readonly modelInfo: DeepgramModelInfo;
  readonly modelUuid: string;
  /** When the connection opened. */
  readonly created: Date;
}

/** Rounds seconds to the microsecond, so that sums of floats print as the times they are. */
export function seconds(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** What a `Results` message says. */
export interface ResultsContent {
  readonly start: number;
  readonly duration: number;
  readonly isFinal: boolean;
  readonly speechFinal: boolean;
  readonly fromFinalize: boolean;
  readonly transcript: string;
  readonly confidence: number;
  readonly words: readonly DeepgramWord[];
}

export function resultsMessage(identity: ConnectionIdentity, content: ResultsContent): DeepgramResults {
  return {
    type: 'Results',
    channel_index: [0, 1],
    duration: seconds(content.duration),
    start: seconds(content.start),
    is_final: content.isFinal,
    speech_final: content.speechFinal,
    from_finalize: content.fromFinalize,
    channel: {
      alternatives: [
        { transcript: content.transcript, confidence: content.confidence, words: [...content.words] },
      ],
    },
    metadata: {
      request_id: identity.requestId,
      model_info: { ...identity.modelInfo },
      model_uuid: identity.modelUuid,
    },
  };
}

export function metadataMessage(
  identity: ConnectionIdentity,
  audio: { readonly sha256: string; readonly duration: number },
): DeepgramMetadata {
  const message: DeepgramMetadata = {
    type: 'Metadata',
    transaction_key: 'deprecated',
    request_id: identity.requestId,
    sha256: audio.sha256,
    created: identity.created.toISOString(),
    duration: seconds(audio.duration),
    channels: 1,
  };
  if (audio.duration > 0) {
    message.models = [identity.modelUuid];
    message.model_info = { [identity.modelUuid]: { ...identity.modelInfo } };
  }
  return message;
}

export function utteranceEndMessage(lastWordEnd: number): DeepgramUtteranceEnd {
  return { type: 'UtteranceEnd', channel: [0, 1], last_word_end: seconds(lastWordEnd) };
}

export function speechStartedMessage(timestamp: number): DeepgramSpeechStarted {
  return { type: 'SpeechStarted', channel: [0, 1], timestamp: seconds(timestamp) };
}

/** Deepgram's answer to a text message it cannot deserialize (`variant: 'SchemaError'`). */
export function schemaErrorMessage(detail: string, received: string): DeepgramError {
  return {
    type: 'Error',
    variant: 'SchemaError',
    description: `Could not deserialize last text message: ${detail}`,
    message: received,
  };
}
