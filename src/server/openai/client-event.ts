/**
 * The client events a transcription session takes, read from their JSON
 * text. What cannot be read is an `unreadable` event carrying OpenAI's
 * error (the session stays open, as OpenAI's does).
 */

import { isJsonObject } from '../../protocols/json-text.js';

/** Largest `audio` an append may carry, decoded: 15 MiB, as OpenAI documents. */
export const MAX_APPEND_BYTES = 15 * 1024 * 1024;

/** Base64 text, padded (what `Buffer.toString('base64')` and `btoa` give). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type ClientEvent =
  | { readonly type: 'session.update'; readonly eventId?: string; readonly session: unknown }
  | { readonly type: 'input_audio_buffer.append'; readonly eventId?: string; readonly audio: Buffer }
  | { readonly type: 'input_audio_buffer.commit'; readonly eventId?: string }
  | { readonly type: 'input_audio_buffer.clear'; readonly eventId?: string }
  | {
      readonly type: 'unreadable';
      readonly eventId?: string;
      readonly code: string;
      readonly param: string | null;
      readonly message: string;
    };

/** Event types of speech-to-speech sessions: not part of a transcription session. */
const NOT_TRANSCRIPTION = new Set([
  'conversation.item.create',
  'conversation.item.delete',
  'conversation.item.retrieve',
  'conversation.item.truncate',
  'output_audio_buffer.clear',
  'response.cancel',
  'response.create',
]);

export function parseClientEvent(text: string): ClientEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      type: 'unreadable',
      code: 'invalid_json',
      param: null,
      message: 'We could not parse the JSON body of your request. (HINT: send every event as JSON text.)',
    };
  }
  if (!isJsonObject(value) || typeof value.type !== 'string') {
    return {
      type: 'unreadable',
      code: 'missing_required_parameter',
      param: 'type',
      message: "Missing required parameter: 'type'.",
    };
  }
  const eventId = typeof value.event_id === 'string' ? { eventId: value.event_id } : {};
  switch (value.type) {
    case 'session.update':
      return { type: 'session.update', ...eventId, session: value.session };
    case 'input_audio_buffer.append': {
      const audio = value.audio;
      if (typeof audio !== 'string') {
        return {
          type: 'unreadable',
          ...eventId,
          code: 'missing_required_parameter',
          param: 'audio',
          message: "Missing required parameter: 'audio' (base64-encoded PCM16).",
        };
      }
      if (audio.length > Math.ceil(MAX_APPEND_BYTES / 3) * 4) {
        return {
          type: 'unreadable',
          ...eventId,
          code: 'invalid_value',
          param: 'audio',
          message: `Audio content of ${Math.floor((audio.length * 3) / 4)} bytes exceeds the maximum of ${MAX_APPEND_BYTES} bytes in one event; send smaller appends.`,
        };
      }
      if (!BASE64.test(audio)) {
        return {
          type: 'unreadable',
          ...eventId,
          code: 'invalid_value',
          param: 'audio',
          message: "Invalid 'audio'. Expected base64-encoded audio bytes.",
        };
      }
      return { type: 'input_audio_buffer.append', ...eventId, audio: Buffer.from(audio, 'base64') };
    }
    case 'input_audio_buffer.commit':
    case 'input_audio_buffer.clear':
      return { type: value.type, ...eventId };
    default:
      return {
        type: 'unreadable',
        ...eventId,
        code: 'invalid_value',
        param: 'type',
        message: NOT_TRANSCRIPTION.has(value.type)
          ? `Invalid value: '${value.type}'. A transcription session takes session.update and input_audio_buffer.append, commit and clear.`
          : `Invalid value: '${value.type.slice(0, 64)}'. Supported values are: 'session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit' and 'input_audio_buffer.clear'.`,
      };
  }
}
