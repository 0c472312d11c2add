/**
 * The text messages a `/v3/ws` client may send: `Terminate`, `ForceEndpoint`,
 * `KeepAlive` and `UpdateConfiguration`. Anything else is AssemblyAI's 3006
 * (`Invalid JSON`, `Invalid Message`, `Invalid Message Type`).
 */

export type AssemblyAIClientMessage =
  | { readonly type: 'Terminate' }
  | { readonly type: 'ForceEndpoint' }
  | { readonly type: 'KeepAlive' }
  | { readonly type: 'UpdateConfiguration'; readonly formatTurns: boolean | undefined }
  | { readonly type: 'invalid'; readonly error: string };

function preview(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

/** Numeric fields of `UpdateConfiguration` and their ranges. */
const NUMERIC_FIELDS: Readonly<Record<string, readonly [number, number]>> = {
  end_of_turn_confidence_threshold: [0, 1],
  min_turn_silence: [0, 60_000],
  min_end_of_turn_silence_when_confident: [0, 60_000],
  max_turn_silence: [0, 60_000],
  vad_threshold: [0, 1],
};

export function parseAssemblyAIClientMessage(text: string): AssemblyAIClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { type: 'invalid', error: `Invalid JSON: ${preview(text)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('type' in value)) {
    return { type: 'invalid', error: `Invalid Message: ${preview(text)}` };
  }
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'Terminate':
    case 'ForceEndpoint':
    case 'KeepAlive':
      return { type: message.type };
    case 'UpdateConfiguration': {
      for (const [name, [min, max]] of Object.entries(NUMERIC_FIELDS)) {
        const field = message[name];
        if (field !== undefined && !(typeof field === 'number' && field >= min && field <= max)) {
          return {
            type: 'invalid',
            error: `Invalid Message: ${name} must be a number from ${min} to ${max}`,
          };
        }
      }
      const format = message.format_turns;
      if (format !== undefined && typeof format !== 'boolean') {
        return { type: 'invalid', error: 'Invalid Message: format_turns must be true or false' };
      }
      return { type: 'UpdateConfiguration', formatTurns: format };
    }
    default:
      return { type: 'invalid', error: `Invalid Message Type: ${preview(String(message.type))}` };
  }
}
