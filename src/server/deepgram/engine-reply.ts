/**
 * Reads the engines' replies, which are Vosk-protocol JSON (see
 * `../engines/engine.ts`): `{"partial": "..."}` while an utterance goes on,
 * `{"result": [{word, start, end, conf}], "text": "..."}` or `{"text": "..."}`
 * when one ended.
 */

import { isJsonObject } from '../../protocols/json-text.js';

/** A word as an engine gives it: seconds from the start of that engine session. */
export interface EngineWord {
  readonly word: string;
  readonly start: number;
  readonly end: number;
  readonly conf: number;
}

export type EngineReply =
  | { readonly kind: 'partial'; readonly text: string }
  | { readonly kind: 'final'; readonly text: string; readonly words: readonly EngineWord[] };

function engineWord(value: unknown): EngineWord {
  if (
    isJsonObject(value) &&
    typeof value.word === 'string' &&
    typeof value.start === 'number' &&
    typeof value.end === 'number'
  ) {
    const conf = typeof value.conf === 'number' ? value.conf : 1;
    return { word: value.word, start: value.start, end: value.end, conf };
  }
  throw new Error(`the engine gave a malformed word: ${JSON.stringify(value)}`);
}

/** Parses one engine reply; throws on a reply that is neither a partial nor a final. */
export function parseEngineReply(json: string): EngineReply {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`the engine replied with something that is not JSON: ${json.slice(0, 40)}`);
  }
  if (!isJsonObject(value)) throw new Error('the engine replied with something that is not an object');
  if (typeof value.partial === 'string') return { kind: 'partial', text: value.partial };
  if (typeof value.text === 'string') {
    const words = Array.isArray(value.result) ? value.result.map(engineWord) : [];
    return { kind: 'final', text: value.text, words };
  }
  throw new Error(
    `the engine replied with neither a partial nor a final (keys: ${Object.keys(value).join(', ')})`,
  );
}

/** The final of an engine session that had no audio. */
export const EMPTY_FINAL: EngineReply = { kind: 'final', text: '', words: [] };
