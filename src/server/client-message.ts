/**
 * Text messages a Vosk-protocol client may send, and the close codes for the
 * ones the server cannot take.
 */

import { isJsonObject } from '../protocols/json-text.js';

/** WebSocket close codes the server uses (RFC 6455, section 7.4.1). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  invalidPayload: 1007,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;

/** A client message the server understood. */
export type ClientMessage =
  | {
      readonly type: 'config';
      readonly sampleRate?: number;
      readonly words?: boolean;
      /** Vosk's `max_alternatives`: finals as N-best alternatives; 0 for plain finals. */
      readonly maxAlternatives?: number;
      /** Vosk's `phrase_list`: recognise only these phrases. */
      readonly phraseList?: readonly string[];
    }
  | { readonly type: 'eof' }
  | { readonly type: 'reset' };

/** The most alternatives computed; larger requests get this many. */
export const MAX_ALTERNATIVES = 100;

/** A client message the server must refuse, with the close code and a reason for a person. */
export interface Refusal {
  readonly type: 'refusal';
  readonly code: number;
  readonly reason: string;
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 24 ? `${flat.slice(0, 24)}...` : flat;
}

function malformed(reason: string): Refusal {
  return { type: 'refusal', code: CloseCode.invalidPayload, reason: `malformed config: ${reason}` };
}

/** A number, or a string holding one, as Python's float()/int() read them in the Vosk server. */
function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

function readConfig(config: Record<string, unknown>): ClientMessage | Refusal {
  const rawRate = config.sample_rate;
  const rate = numeric(rawRate);
  if (rawRate !== undefined && (rate === undefined || rate <= 0)) {
    return malformed(
      `sample_rate must be a positive number, got ${preview(JSON.stringify(rawRate) ?? 'undefined')}`,
    );
  }
  const words = config.words;
  if (words !== undefined && typeof words !== 'boolean' && words !== 0 && words !== 1) {
    return malformed('words must be true or false');
  }
  const rawAlternatives = config.max_alternatives;
  const alternatives = numeric(rawAlternatives);
  if (rawAlternatives !== undefined && (alternatives === undefined || alternatives < 0)) {
    return malformed('max_alternatives must be a whole number, 0 or more');
  }
  const phrases = config.phrase_list;
  if (phrases !== undefined && (!Array.isArray(phrases) || !phrases.every((p) => typeof p === 'string'))) {
    return malformed('phrase_list must be an array of strings');
  }
  return {
    type: 'config',
    ...(rate !== undefined ? { sampleRate: rate } : {}),
    ...(words !== undefined ? { words: Boolean(words) } : {}),
    ...(alternatives !== undefined
      ? { maxAlternatives: Math.min(Math.trunc(alternatives), MAX_ALTERNATIVES) }
      : {}),
    ...(phrases !== undefined ? { phraseList: phrases as string[] } : {}),
  };
}

/**
 * Parses one text frame. Accepts `{"eof" : 1}` and `{"reset" : 1}` with or
 * without spaces, and `{"config": {...}}` whose known keys are `sample_rate`,
 * `words`, `max_alternatives` and `phrase_list` (numbers also as strings, as
 * Vosk's float()/int() read them); other config keys (`model`) are ignored.
 */
export function parseClientMessage(text: string): ClientMessage | Refusal {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      type: 'refusal',
      code: CloseCode.invalidPayload,
      reason: `malformed message, not JSON: "${preview(text)}"`,
    };
  }
  if (!isJsonObject(value)) {
    return {
      type: 'refusal',
      code: CloseCode.unsupportedData,
      reason: 'unknown message: expected a JSON object',
    };
  }
  if ('eof' in value) {
    if (value.eof === 1 || value.eof === true) return { type: 'eof' };
    return { type: 'refusal', code: CloseCode.invalidPayload, reason: 'malformed eof: expected {"eof" : 1}' };
  }
  if ('reset' in value) {
    if (value.reset === 1 || value.reset === true) return { type: 'reset' };
    return {
      type: 'refusal',
      code: CloseCode.invalidPayload,
      reason: 'malformed reset: expected {"reset" : 1}',
    };
  }
  if ('config' in value) {
    const config = value.config;
    if (!isJsonObject(config)) return malformed('expected an object');
    return readConfig(config);
  }
  const keys = Object.keys(value).slice(0, 3).join(', ') || 'none';
  return {
    type: 'refusal',
    code: CloseCode.unsupportedData,
    reason: `unknown message (keys: ${keys}); expected {"config": ...}, {"reset" : 1} or {"eof" : 1}`,
  };
}

/** Cuts a close reason to the 123 bytes a close frame can carry, on a character boundary. */
export function closeReason(reason: string): string {
  const encoder = new TextEncoder();
  if (encoder.encode(reason).length <= 123) return reason;
  let cut = reason.slice(0, 120);
  while (encoder.encode(`${cut}...`).length > 123) cut = cut.slice(0, -1);
  return `${cut}...`;
}
