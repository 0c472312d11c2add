/**
 * Text messages a Vosk-protocol client may send, and the close codes for the
 * ones the server cannot take.
 */

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
  | { readonly type: 'config'; readonly sampleRate?: number; readonly words?: boolean }
  | { readonly type: 'eof' };

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses one text frame. Accepts `{"eof" : 1}` with or without spaces, and
 * `{"config": {...}}` whose known keys are `sample_rate` and `words`; other
 * config keys are ignored, as the Vosk server ignores them.
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
  if (!isRecord(value)) {
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
  if ('config' in value) {
    const config = value.config;
    if (!isRecord(config)) {
      return {
        type: 'refusal',
        code: CloseCode.invalidPayload,
        reason: 'malformed config: expected an object',
      };
    }
    const rate = config.sample_rate;
    if (rate !== undefined && (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0)) {
      return {
        type: 'refusal',
        code: CloseCode.invalidPayload,
        reason: `malformed config: sample_rate must be a positive number, got ${preview(JSON.stringify(rate) ?? 'undefined')}`,
      };
    }
    const words = config.words;
    if (words !== undefined && typeof words !== 'boolean' && words !== 0 && words !== 1) {
      return {
        type: 'refusal',
        code: CloseCode.invalidPayload,
        reason: 'malformed config: words must be true or false',
      };
    }
    return {
      type: 'config',
      ...(rate !== undefined ? { sampleRate: rate as number } : {}),
      ...(words !== undefined ? { words: Boolean(words) } : {}),
    };
  }
  const keys = Object.keys(value).slice(0, 3).join(', ') || 'none';
  return {
    type: 'refusal',
    code: CloseCode.unsupportedData,
    reason: `unknown message (keys: ${keys}); expected {"config": ...} or {"eof" : 1}`,
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
