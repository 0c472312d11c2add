import type { Engine } from '../engines/engine.js';

/**
 * The query string of a `/v1/listen` upgrade, read as Deepgram reads it, or
 * the reason to refuse it with HTTP 400. Parameters the engines cannot act on
 * (`model`, `language`, `keyterm`, `smart_format`'s formatting...) are
 * accepted and ignored; parameters this server does not know are accepted and
 * ignored too, as Deepgram's SDKs pass add-on parameters through.
 */

/** What a connection asked for. */
export interface DeepgramConfig {
  /**
   * `linear16`: raw 16-bit little-endian PCM at `sampleRate`. Undefined: no
   * `encoding` was given, so (as with Deepgram) the audio must be
   * containerized; this server reads WAV (16-bit mono PCM) only.
   */
  readonly encoding: 'linear16' | undefined;
  /** The rate of raw audio: `sample_rate`, or the engine's default (16000) when absent. */
  readonly sampleRate: number;
  readonly interimResults: boolean;
  readonly endpointing: boolean;
  readonly utteranceEndMs: number | undefined;
  readonly vadEvents: boolean;
  /** `punctuate=true` or `smart_format=true`: words get a `punctuated_word`. */
  readonly punctuatedWords: boolean;
}

/** A refusal: the message goes in `err_msg` after "Bad Request: ". */
export interface QueryRefusal {
  readonly refusal: string;
}

/** Encodings Deepgram takes for raw audio; all but linear16 are refused here (the engines take PCM). */
const DEEPGRAM_ENCODINGS = new Set([
  'linear16',
  'linear32',
  'flac',
  'alaw',
  'mulaw',
  'amr-nb',
  'amr-wb',
  'opus',
  'ogg-opus',
  'speex',
  'g729',
]);

function quoted(value: string): string {
  const flat = value.length > 40 ? `${value.slice(0, 40)}...` : value;
  return JSON.stringify(flat);
}

class Refused extends Error {}

function flag(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  if (value === null) return false;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new Refused(`${name} must be true or false, got ${quoted(value)}`);
}

function wholeNumber(params: URLSearchParams, name: string, min: number): number | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new Refused(
      `${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got ${quoted(value)}`,
    );
  }
  return Number(value);
}

function readQuery(params: URLSearchParams, engine: Engine): DeepgramConfig {
  const encodingText = params.get('encoding');
  let encoding: 'linear16' | undefined;
  if (encodingText !== null) {
    const name = encodingText.toLowerCase();
    if (name !== 'linear16') {
      throw new Refused(
        DEEPGRAM_ENCODINGS.has(name)
          ? `encoding ${quoted(encodingText)} is not supported by this server (${engine.name} engine): send linear16 (raw 16-bit little-endian PCM) or a WAV file without encoding`
          : `unknown encoding ${quoted(encodingText)}; this server takes linear16`,
      );
    }
    encoding = 'linear16';
  }
  const channels = wholeNumber(params, 'channels', 1);
  if (channels !== undefined && channels !== 1) {
    throw new Refused(`channels=${channels} is not supported by this server: send mono audio (channels=1)`);
  }
  const rate = wholeNumber(params, 'sample_rate', 1);
  const sampleRate = rate ?? engine.defaultSampleRate;
  if (encoding !== undefined) {
    const problem = engine.checkSampleRate(sampleRate);
    if (problem !== undefined) throw new Refused(`sample_rate=${sampleRate} is not supported: ${problem}`);
  }
  const endpointingText = params.get('endpointing');
  let endpointing = true;
  if (endpointingText !== null) {
    const lower = endpointingText.toLowerCase();
    if (lower === 'false') endpointing = false;
    else if (lower !== 'true' && !/^\d+$/.test(endpointingText)) {
      throw new Refused(
        `endpointing must be false or a whole number of milliseconds, got ${quoted(endpointingText)}`,
      );
    }
  }
  const interimResults = flag(params, 'interim_results');
  const utteranceEndMs = wholeNumber(params, 'utterance_end_ms', 1);
  const vadEvents = flag(params, 'vad_events');
  const punctuate = flag(params, 'punctuate');
  const smartFormat = flag(params, 'smart_format');
  const punctuatedWords = punctuate || smartFormat;
  return { encoding, sampleRate, interimResults, endpointing, utteranceEndMs, vadEvents, punctuatedWords };
}

/** Reads the query of a `/v1/listen` URL (`search`, with or without the `?`). */
export function parseDeepgramQuery(search: string, engine: Engine): DeepgramConfig | QueryRefusal {
  try {
    return readQuery(new URLSearchParams(search), engine);
  } catch (error) {
    if (error instanceof Refused) return { refusal: error.message };
    throw error;
  }
}
