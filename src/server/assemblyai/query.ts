import type { Engine } from '../engines/engine.js';

/**
 * The query string of a `/v3/ws` upgrade, read as AssemblyAI reads it, or the
 * reason to refuse it (an `Error` with 3006, then the close). `sample_rate`
 * is required; `encoding` must be `pcm_s16le` (the engines take PCM, so
 * `pcm_mulaw`, `opus`... are refused with a reason that says so). Parameters
 * that steer a model the engines do not have (`speech_model`,
 * `keyterms_prompt`, `end_of_turn_confidence_threshold`, the turn silences)
 * are checked for their form and otherwise ignored; unknown ones are ignored,
 * as the SDK sends many this server has no use for.
 */

/** What a connection asked for. */
export interface AssemblyAIConfig {
  readonly sampleRate: number;
  /** Send a second, formatted `Turn` after each end-of-turn one. */
  readonly formatTurns: boolean;
  /** Close the session after this long without audio or a message, in ms; undefined: never. */
  readonly inactivityTimeoutMs: number | undefined;
}

/** A refusal: the text of the `Error` message. */
export interface QueryRefusal {
  readonly refusal: string;
}

/** Speech models AssemblyAI's v3 endpoint names (the SDK's `StreamingSpeechModel`). */
const SPEECH_MODELS = new Set([
  'universal-streaming-english',
  'universal-streaming-multilingual',
  'u3-rt-pro',
  'u3-rt-pro-beta-1',
  'whisper-rt',
  'universal-3-5-pro',
  'universal-3-6',
  'universal-3-6-pro',
  'u3-pro',
]);

/** Encodings AssemblyAI takes; all but pcm_s16le are refused here (the engines take PCM). */
const ENCODINGS = new Set(['pcm_s16le', 'pcm_mulaw', 'opus', 'ogg_opus', 'aac']);

class Refused extends Error {}

function quoted(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}

function flag(params: URLSearchParams, name: string, fallback: boolean): boolean {
  const value = params.get(name);
  if (value === null) return fallback;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new Refused(`Invalid query parameter ${name}: expected true or false, got ${quoted(value)}`);
}

function numberIn(params: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new Refused(
      `Invalid query parameter ${name}: expected a number from ${min} to ${max}, got ${quoted(value)}`,
    );
  }
  return n;
}

function readQuery(params: URLSearchParams, engine: Engine): AssemblyAIConfig {
  const rateText = params.get('sample_rate');
  if (rateText === null) throw new Refused('Invalid query parameter sample_rate: sample_rate is required');
  if (!/^\d+$/.test(rateText) || Number(rateText) <= 0) {
    throw new Refused(
      `Invalid query parameter sample_rate: expected a positive integer, got ${quoted(rateText)}`,
    );
  }
  const sampleRate = Number(rateText);
  const problem = engine.checkSampleRate(sampleRate);
  if (problem !== undefined) {
    throw new Refused(
      `Invalid query parameter sample_rate: ${sampleRate} is not supported by this server (${problem})`,
    );
  }
  const encoding = params.get('encoding');
  if (encoding !== null && encoding !== 'pcm_s16le') {
    throw new Refused(
      ENCODINGS.has(encoding)
        ? `Invalid query parameter encoding: ${quoted(encoding)} is not supported by this server (${engine.name} engine); send pcm_s16le`
        : `Invalid query parameter encoding: unknown encoding ${quoted(encoding)}; expected pcm_s16le`,
    );
  }
  const model = params.get('speech_model');
  if (model !== null && !SPEECH_MODELS.has(model)) {
    throw new Refused(`Invalid query parameter speech_model: unknown model ${quoted(model)}`);
  }
  numberIn(params, 'end_of_turn_confidence_threshold', 0, 1);
  numberIn(params, 'min_turn_silence', 0, 60_000);
  numberIn(params, 'max_turn_silence', 0, 60_000);
  numberIn(params, 'vad_threshold', 0, 1);
  const keyterms = params.get('keyterms_prompt');
  if (keyterms !== null) {
    let list: unknown;
    try {
      list = JSON.parse(keyterms);
    } catch {
      list = undefined;
    }
    if (!Array.isArray(list) || !list.every((term) => typeof term === 'string')) {
      throw new Refused('Invalid query parameter keyterms_prompt: expected a JSON list of strings');
    }
  }
  const inactivity = numberIn(params, 'inactivity_timeout', 5, 3600);
  return {
    sampleRate,
    formatTurns: flag(params, 'format_turns', false),
    inactivityTimeoutMs: inactivity === undefined ? undefined : inactivity * 1000,
  };
}

/** Reads the query of a `/v3/ws` URL (`search`, with or without the `?`). */
export function parseAssemblyAIQuery(search: string, engine: Engine): AssemblyAIConfig | QueryRefusal {
  try {
    return readQuery(new URLSearchParams(search), engine);
  } catch (error) {
    if (error instanceof Refused) return { refusal: error.message };
    throw error;
  }
}
