import { randomBytes } from 'node:crypto';
import type { TranscriptionSessionShape } from './session-config.js';

/**
 * The server events of OpenAI's Realtime API that the transcription emulator
 * sends, in the shapes of the GA API (`openai` 7's `RealtimeServerEvent`
 * types; spec/server/openai-types.spec.ts checks them against the SDK's).
 */

/** An `error` event's details, as OpenAI gives them. */
export interface RealtimeErrorDetail {
  readonly type: 'invalid_request_error' | 'server_error';
  readonly code: string | null;
  readonly message: string;
  readonly param: string | null;
  /** The client event that caused it, if it had an `event_id`. */
  readonly event_id: string | null;
}

export interface RealtimeErrorMessage {
  readonly type: 'error';
  readonly event_id: string;
  readonly error: RealtimeErrorDetail;
}

export interface SessionMessage {
  readonly type: 'session.created' | 'session.updated';
  readonly event_id: string;
  readonly session: TranscriptionSessionShape;
}

export interface SpeechStartedMessage {
  readonly type: 'input_audio_buffer.speech_started';
  readonly event_id: string;
  readonly audio_start_ms: number;
  readonly item_id: string;
}

export interface SpeechStoppedMessage {
  readonly type: 'input_audio_buffer.speech_stopped';
  readonly event_id: string;
  readonly audio_end_ms: number;
  readonly item_id: string;
}

export interface CommittedMessage {
  readonly type: 'input_audio_buffer.committed';
  readonly event_id: string;
  readonly item_id: string;
  readonly previous_item_id: string | null;
}

export interface ClearedMessage {
  readonly type: 'input_audio_buffer.cleared';
  readonly event_id: string;
}

export interface TranscriptionDeltaMessage {
  readonly type: 'conversation.item.input_audio_transcription.delta';
  readonly event_id: string;
  readonly item_id: string;
  readonly content_index: number;
  readonly delta: string;
}

export interface TranscriptionCompletedMessage {
  readonly type: 'conversation.item.input_audio_transcription.completed';
  readonly event_id: string;
  readonly item_id: string;
  readonly content_index: number;
  readonly transcript: string;
  /** Transcription models billed by duration report it so (whisper-1 and the emulator). */
  readonly usage: { readonly type: 'duration'; readonly seconds: number };
}

/** Every event the emulator sends. */
export type RealtimeServerMessage =
  | RealtimeErrorMessage
  | SessionMessage
  | SpeechStartedMessage
  | SpeechStoppedMessage
  | CommittedMessage
  | ClearedMessage
  | TranscriptionDeltaMessage
  | TranscriptionCompletedMessage;

/** An id in OpenAI's style: a prefix and 22 random characters (`event_…`, `item_…`, `sess_…`). */
export function realtimeId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url').slice(0, 22)}`;
}

const eventId = (): string => realtimeId('event');

export function errorMessage(
  error: Omit<RealtimeErrorDetail, 'event_id'>,
  clientEventId?: string,
): RealtimeErrorMessage {
  return { type: 'error', event_id: eventId(), error: { ...error, event_id: clientEventId ?? null } };
}

export function sessionMessage<T extends SessionMessage['type']>(
  type: T,
  session: TranscriptionSessionShape,
): SessionMessage & { readonly type: T } {
  return { type, event_id: eventId(), session };
}

export function speechStartedMessage(itemId: string, audioStartMs: number): SpeechStartedMessage {
  return {
    type: 'input_audio_buffer.speech_started',
    event_id: eventId(),
    audio_start_ms: Math.round(audioStartMs),
    item_id: itemId,
  };
}

export function speechStoppedMessage(itemId: string, audioEndMs: number): SpeechStoppedMessage {
  return {
    type: 'input_audio_buffer.speech_stopped',
    event_id: eventId(),
    audio_end_ms: Math.round(audioEndMs),
    item_id: itemId,
  };
}

export function committedMessage(itemId: string, previousItemId: string | null): CommittedMessage {
  return {
    type: 'input_audio_buffer.committed',
    event_id: eventId(),
    item_id: itemId,
    previous_item_id: previousItemId,
  };
}

export function clearedMessage(): ClearedMessage {
  return { type: 'input_audio_buffer.cleared', event_id: eventId() };
}

export function deltaMessage(itemId: string, delta: string): TranscriptionDeltaMessage {
  return {
    type: 'conversation.item.input_audio_transcription.delta',
    event_id: eventId(),
    item_id: itemId,
    content_index: 0,
    delta,
  };
}

export function completedMessage(
  itemId: string,
  transcript: string,
  seconds: number,
): TranscriptionCompletedMessage {
  return {
    type: 'conversation.item.input_audio_transcription.completed',
    event_id: eventId(),
    item_id: itemId,
    content_index: 0,
    transcript,
    usage: { type: 'duration', seconds: Math.round(seconds * 1000) / 1000 },
  };
}

/** The error that ends a session at its time limit, as OpenAI words it. */
export function sessionExpiredMessage(limitMs: number): RealtimeErrorMessage {
  const minutes = limitMs / 60_000;
  const span =
    Number.isInteger(minutes) && minutes >= 1
      ? `${minutes} minute${minutes === 1 ? '' : 's'}`
      : `${Math.round(limitMs / 1000)} seconds`;
  return errorMessage({
    type: 'invalid_request_error',
    code: 'session_expired',
    message: `Your session hit the maximum duration of ${span}.`,
    param: null,
  });
}

/** The error a bad key gets before the close, as OpenAI sends it (then close 3000). */
export function invalidApiKeyMessage(): RealtimeErrorMessage {
  return errorMessage({
    type: 'invalid_request_error',
    code: 'invalid_api_key',
    message:
      'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
    param: null,
  });
}
