/**
 * The configuration of a transcription session (`session.update` with
 * `session.type: 'transcription'`), as the emulator keeps and reports it in
 * `session.created` / `session.updated`: the full effective configuration,
 * updated field by field from what an update gives.
 */

import { isJsonObject } from '../../protocols/json-text.js';

/** The rate OpenAI's `audio/pcm` input takes; the only one. */
export const OPENAI_PCM_RATE = 24000;

/** Server VAD's parameters, OpenAI's defaults filled in. */
export interface ServerVadShape {
  readonly type: 'server_vad';
  readonly threshold: number;
  readonly prefix_padding_ms: number;
  readonly silence_duration_ms: number;
  readonly idle_timeout_ms: number | null;
}

export interface NoiseReductionShape {
  readonly type: 'near_field' | 'far_field';
}

export interface TranscriptionShape {
  readonly model: string;
  readonly language?: string;
  readonly prompt?: string;
}

/** A transcription session as `session.created` and `session.updated` give it. */
export interface TranscriptionSessionShape {
  readonly type: 'transcription';
  readonly id: string;
  readonly object: 'realtime.transcription_session';
  /** Unix seconds when the session ends (`session_expired`). */
  readonly expires_at: number;
  readonly audio: {
    readonly input: {
      readonly format: { readonly type: 'audio/pcm'; readonly rate: 24000 };
      readonly transcription: TranscriptionShape;
      readonly turn_detection: ServerVadShape | null;
      /** Left out while off (the SDK's type has no null here, though an update may send one). */
      readonly noise_reduction?: NoiseReductionShape;
    };
  };
  readonly include: Array<'item.input_audio_transcription.logprobs'>;
}

export const DEFAULT_SERVER_VAD: ServerVadShape = {
  type: 'server_vad',
  threshold: 0.5,
  prefix_padding_ms: 300,
  silence_duration_ms: 500,
  idle_timeout_ms: null,
};

/** The session a connection starts with (server VAD on, as OpenAI's default). */
export function defaultSession(id: string, expiresAt: number): TranscriptionSessionShape {
  return {
    type: 'transcription',
    id,
    object: 'realtime.transcription_session',
    expires_at: expiresAt,
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: OPENAI_PCM_RATE },
        transcription: { model: 'gpt-4o-transcribe' },
        turn_detection: DEFAULT_SERVER_VAD,
      },
    },
    include: [],
  };
}

/** Why an update cannot be taken: OpenAI's `invalid_value` error with the offending parameter. */
export interface ConfigRefusal {
  readonly message: string;
  readonly param: string;
}

function refusal(param: string, message: string): ConfigRefusal {
  return { param, message };
}

/**
 * The session after an update's `session` object, or why it cannot be taken.
 * Only the fields given change; `null` turns turn detection or noise
 * reduction off. Realtime (speech-to-speech) sessions are not emulated.
 */
export function applySessionUpdate(
  current: TranscriptionSessionShape,
  session: unknown,
): TranscriptionSessionShape | ConfigRefusal {
  if (!isJsonObject(session)) return refusal('session', "Invalid type for 'session': expected an object.");
  if (session.type !== 'transcription') {
    return refusal(
      'session.type',
      `Invalid value for 'session.type': ${JSON.stringify(session.type)}. This server emulates transcription sessions only (connect with ?intent=transcription and send type 'transcription').`,
    );
  }
  let input = current.audio.input;
  const audio = session.audio;
  if (audio !== undefined) {
    if (!isJsonObject(audio))
      return refusal('session.audio', "Invalid type for 'session.audio': expected an object.");
    const given = audio.input;
    if (given !== undefined) {
      if (!isJsonObject(given)) {
        return refusal('session.audio.input', "Invalid type for 'session.audio.input': expected an object.");
      }
      const format = given.format;
      if (format !== undefined) {
        if (!isJsonObject(format)) {
          return refusal(
            'session.audio.input.format',
            "Invalid type for 'session.audio.input.format': expected an object.",
          );
        }
        if (format.type !== undefined && format.type !== 'audio/pcm') {
          return refusal(
            'session.audio.input.format.type',
            `Invalid value for 'session.audio.input.format.type': ${JSON.stringify(format.type)}. This server takes 'audio/pcm' only.`,
          );
        }
        if (format.rate !== undefined && format.rate !== OPENAI_PCM_RATE) {
          return refusal(
            'session.audio.input.format.rate',
            `Invalid value for 'session.audio.input.format.rate': ${JSON.stringify(format.rate)}. Only 24000 is supported for 'audio/pcm'.`,
          );
        }
      }
      const transcription = readTranscription(input.transcription, given.transcription);
      if ('param' in transcription) return transcription;
      const turn = readTurnDetection(input.turn_detection, given.turn_detection);
      if (turn !== null && 'param' in turn) return turn;
      const noise = readNoiseReduction(input.noise_reduction ?? null, given.noise_reduction);
      if (noise !== null && 'param' in noise) return noise;
      const { noise_reduction: _off, ...rest } = input;
      input = {
        ...rest,
        transcription,
        turn_detection: turn,
        ...(noise !== null ? { noise_reduction: noise } : {}),
      };
    }
  }
  let include = current.include;
  if (session.include !== undefined) {
    if (
      !Array.isArray(session.include) ||
      session.include.some((v) => v !== 'item.input_audio_transcription.logprobs')
    ) {
      return refusal(
        'session.include',
        "Invalid value for 'session.include': supported values are 'item.input_audio_transcription.logprobs'.",
      );
    }
    include = [...session.include] as TranscriptionSessionShape['include'];
  }
  return { ...current, audio: { input }, include };
}

function readTranscription(current: TranscriptionShape, given: unknown): TranscriptionShape | ConfigRefusal {
  if (given === undefined) return current;
  const param = 'session.audio.input.transcription';
  if (!isJsonObject(given)) return refusal(param, `Invalid type for '${param}': expected an object.`);
  const out: { model: string; language?: string; prompt?: string } = { ...current };
  for (const key of ['model', 'language', 'prompt'] as const) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== 'string')
      return refusal(`${param}.${key}`, `Invalid type for '${param}.${key}': expected a string.`);
    out[key] = value;
  }
  return out;
}

function readTurnDetection(
  current: ServerVadShape | null,
  given: unknown,
): ServerVadShape | null | ConfigRefusal {
  if (given === undefined) return current;
  if (given === null) return null;
  const param = 'session.audio.input.turn_detection';
  if (!isJsonObject(given)) return refusal(param, `Invalid type for '${param}': expected an object or null.`);
  // Semantic VAD is taken as server VAD: the engines cut utterances at pauses either way.
  if (given.type !== 'server_vad' && given.type !== 'semantic_vad') {
    return refusal(
      `${param}.type`,
      `Invalid value for '${param}.type': ${JSON.stringify(given.type)}. Supported values are: 'server_vad' and 'semantic_vad'.`,
    );
  }
  const base = current ?? DEFAULT_SERVER_VAD;
  const number = (
    key: 'threshold' | 'prefix_padding_ms' | 'silence_duration_ms',
    min: number,
    max: number,
  ): number | ConfigRefusal => {
    const value = given[key];
    if (value === undefined) return base[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      return refusal(
        `${param}.${key}`,
        `Invalid value for '${param}.${key}': expected a number from ${min} to ${max}.`,
      );
    }
    return value;
  };
  const threshold = number('threshold', 0, 1);
  if (typeof threshold !== 'number') return threshold;
  const prefix = number('prefix_padding_ms', 0, 10_000);
  if (typeof prefix !== 'number') return prefix;
  const silence = number('silence_duration_ms', 0, 10_000);
  if (typeof silence !== 'number') return silence;
  const idle = given.idle_timeout_ms;
  if (idle !== undefined && idle !== null && (typeof idle !== 'number' || !(idle > 0))) {
    return refusal(
      `${param}.idle_timeout_ms`,
      `Invalid value for '${param}.idle_timeout_ms': expected a positive number or null.`,
    );
  }
  return {
    type: 'server_vad',
    threshold,
    prefix_padding_ms: prefix,
    silence_duration_ms: silence,
    idle_timeout_ms: idle === undefined ? base.idle_timeout_ms : idle,
  };
}

function readNoiseReduction(
  current: NoiseReductionShape | null,
  given: unknown,
): NoiseReductionShape | null | ConfigRefusal {
  if (given === undefined) return current;
  if (given === null) return null;
  const param = 'session.audio.input.noise_reduction';
  if (!isJsonObject(given)) return refusal(param, `Invalid type for '${param}': expected an object or null.`);
  const type = given.type ?? current?.type ?? 'near_field';
  if (type !== 'near_field' && type !== 'far_field') {
    return refusal(
      `${param}.type`,
      `Invalid value for '${param}.type': ${JSON.stringify(type)}. Supported values are: 'near_field' and 'far_field'.`,
    );
  }
  return { type };
}
