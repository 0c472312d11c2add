/**
 * Text messages a Deepgram `/v1/listen` client may send. Deepgram answers a
 * text message it cannot deserialize with an `Error` message of variant
 * `SchemaError` and keeps the stream open (developers.deepgram.com/docs/configure).
 */

/** The control messages of `/v1/listen`. */
export type DeepgramClientMessage =
  | { readonly type: 'KeepAlive' }
  | { readonly type: 'Finalize' }
  | { readonly type: 'CloseStream' }
  /** Changes keyterms or formatting mid-stream; accepted and ignored here (the engines cannot). */
  | { readonly type: 'Configure' }
  | { readonly type: 'Sync' };

/** A text message that is none of them: why, in the words of Deepgram's deserializer. */
export interface UnreadableMessage {
  readonly type: 'unreadable';
  readonly detail: string;
}

const TYPES = ['CloseStream', 'Configure', 'Sync', 'KeepAlive', 'Finalize'] as const;

function isKnownType(value: string): value is (typeof TYPES)[number] {
  return (TYPES as readonly string[]).includes(value);
}

export function parseDeepgramClientMessage(text: string): DeepgramClientMessage | UnreadableMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { type: 'unreadable', detail: (error as Error).message };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { type: 'unreadable', detail: 'invalid type: expected a JSON object' };
  }
  const type = (value as Record<string, unknown>).type;
  if (type === undefined) return { type: 'unreadable', detail: 'missing field `type`' };
  if (typeof type !== 'string' || !isKnownType(type)) {
    const expected = TYPES.map((name) => `\`${name}\``).join(', ');
    return {
      type: 'unreadable',
      detail: `unknown variant \`${typeof type === 'string' ? type : JSON.stringify(type)}\`, expected one of ${expected}`,
    };
  }
  return { type };
}
