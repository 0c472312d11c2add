import type { AudioChunk } from '../audio/audio-format.js';
import { encodePcmBytes } from '../audio/pcm-bytes.js';
import { protocolError } from '../errors/protocol-error.js';
import type { TranscriptionError } from '../errors/transcription-error.js';
import type { WireMessage } from '../transport/socket-driver.js';
import { parseJsonText } from './json-text.js';
import type { DecodedMessage, ProtocolCodec, ProtocolResult, TranscriptionProtocol } from './protocol.js';

/** Options of {@link vosk}. */
export interface VoskOptions {
  /** Sample rate to send. Default 16000 (the rate of most Vosk models). */
  readonly sampleRate?: number;
  /** Ask for per-word times and confidences. Default true. */
  readonly words?: boolean;
}

/** The end-of-stream message exactly as the Vosk server wants it (it takes only this spacing). */
export const VOSK_EOF = '{"eof" : 1}';
/** The text Vosk servers take as "finalise what you have heard so far". */
export const VOSK_RESET = '{"reset" : 1}';

interface VoskWord {
  word: string;
  start: number;
  end: number;
  conf?: number;
}

function malformed(detail: string, data: WireMessage): TranscriptionError {
  return protocolError('Vosk', detail, data, 'read');
}

function isWord(value: unknown): value is VoskWord {
  if (typeof value !== 'object' || value === null) return false;
  const w = value as Record<string, unknown>;
  return (
    typeof w.word === 'string' &&
    typeof w.start === 'number' &&
    typeof w.end === 'number' &&
    (w.conf === undefined || typeof w.conf === 'number')
  );
}

const seconds = (s: number): number => Math.round(s * 1000);

/**
 * The Vosk server protocol (also spoken by this package's reference server):
 * a config message, binary 16-bit PCM frames, `{"eof" : 1}`, and one reply
 * per audio frame and per EOF, `{"partial"}` or `{"result", "text"}`.
 */
export function vosk(options: VoskOptions = {}): TranscriptionProtocol {
  const sampleRate = options.sampleRate ?? 16000;
  const words = options.words ?? true;
  const config = JSON.stringify({ config: { sample_rate: sampleRate, words } });
  return {
    name: 'vosk',
    sampleRate,
    credit: 'replies',
    endsWith: 'answer',
    codec: () => new VoskCodec(config),
  };
}

/** One connection's Vosk messages. */
class VoskCodec implements ProtocolCodec {
  private lastPartial: string | undefined;
  private lastPartialDecoded: DecodedMessage | undefined;

  constructor(private readonly config: string) {}

  start(): readonly WireMessage[] {
    return [this.config];
  }

  encodeAudio(frame: AudioChunk): WireMessage {
    return encodePcmBytes(frame.samples);
  }

  /** `{"reset" : 1}`: the server answers with the final for the audio so far and goes on (Vosk's `asr_server.py`). */
  flush(): readonly WireMessage[] {
    return [VOSK_RESET];
  }

  end(): readonly WireMessage[] {
    return [VOSK_EOF];
  }

  decode(data: WireMessage): DecodedMessage {
    // Servers repeat the same partial with every reply: the last one decoded is reused.
    if (data === this.lastPartial && this.lastPartialDecoded !== undefined) return this.lastPartialDecoded;
    const decoded = decodeVoskMessage(data);
    if (decoded.results[0]?.type === 'partial') {
      this.lastPartial = data as string;
      this.lastPartialDecoded = decoded;
    }
    return decoded;
  }
}

function decodeVoskMessage(data: WireMessage): DecodedMessage {
  const message = parseJsonText(data, malformed);
  if (typeof message !== 'object' || message === null) throw malformed('not an object', data);
  const m = message as Record<string, unknown>;
  if (typeof m.partial === 'string') {
    return { answers: 1, results: [{ type: 'partial', text: m.partial.trim(), words: [] }] };
  }
  // With max_alternatives, Vosk wraps results: take the best.
  let best: Record<string, unknown> = m;
  if (m.alternatives !== undefined) {
    const first: unknown = Array.isArray(m.alternatives) ? m.alternatives[0] : undefined;
    if (typeof first !== 'object' || first === null)
      throw malformed('"alternatives" without a first object', data);
    best = first as Record<string, unknown>;
  }
  if (typeof best.text === 'string') {
    const list = best.result ?? [];
    if (!Array.isArray(list) || !list.every(isWord)) throw malformed('bad "result" word list', data);
    const result: ProtocolResult = {
      type: 'final',
      text: best.text.trim(),
      endOfUtterance: true,
      words: list.map((w) => ({
        text: w.word,
        startMs: seconds(w.start),
        endMs: seconds(w.end),
        ...(w.conf !== undefined ? { confidence: w.conf } : {}),
      })),
    };
    return { answers: 1, results: [result] };
  }
  throw malformed('neither "partial" nor "text"', data);
}
