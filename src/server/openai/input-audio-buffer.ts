import { type EngineReply, parseEngineReply } from '../deepgram/engine-reply.js';
import type { Engine, EngineFailure, EngineSession } from '../engines/engine.js';
import { EngineFeed } from './engine-feed.js';
import {
  clearedMessage,
  committedMessage,
  completedMessage,
  deltaMessage,
  errorMessage,
  type RealtimeServerMessage,
  realtimeId,
  speechStartedMessage,
  speechStoppedMessage,
} from './messages.js';
import { OPENAI_PCM_RATE, type ServerVadShape } from './session-config.js';

/** A commit needs this much audio in the buffer, as OpenAI's does. */
export const MIN_COMMIT_MS = 100;

/** Speech detected and not yet committed: the item it will become. */
interface Speech {
  readonly itemId: string;
  readonly startMs: number;
}

/**
 * A session's input audio buffer over an engine. Times are ms of all the
 * audio appended in the session (OpenAI's `audio_start_ms`/`audio_end_ms`).
 *
 * With server VAD, the engine's own segmentation is the VAD: its first
 * partial with words is `speech_started`, and each of its finals is
 * `speech_stopped` at the audio consumed then, `committed`, one `delta` per
 * word and `completed`. Without turn detection, the engine's finals wait in
 * the buffer until the client's `commit`, which flushes the engine (a new
 * engine session takes the audio after it) and gives one item. Items are
 * completed in commit order (the real service may complete them out of order).
 */
export class InputAudioBuffer {
  private samples = 0;
  /** Where the uncommitted audio starts. */
  private startMs = 0;
  private engineSession: EngineSession | undefined;
  private feed: EngineFeed | undefined;
  private engineStartMs = 0;
  private speech: Speech | undefined;
  /** Without VAD: what the engine said of the buffer so far. */
  private heard: string[] = [];
  private lastItemId: string | null = null;
  private readonly engineRate: number;

  constructor(
    private readonly engine: Engine,
    private readonly onFailure: (error: EngineFailure) => void,
    private readonly timed: (reply: Promise<string>) => Promise<string>,
  ) {
    this.engineRate = engine.checkSampleRate(OPENAI_PCM_RATE) === undefined ? OPENAI_PCM_RATE : 16000;
  }

  /** Ms of audio appended so far. */
  get audioMs(): number {
    return (this.samples * 1000) / OPENAI_PCM_RATE;
  }

  /** Appends whole 24 kHz samples (little-endian PCM16) and gives what the engine's reply means. */
  async append(pcm: Buffer, vad: ServerVadShape | null): Promise<RealtimeServerMessage[]> {
    const frameStartMs = this.audioMs;
    const session = this.engineFor();
    this.samples += pcm.length / 2;
    const input = this.feed!.push(pcm);
    if (input.length === 0) return [];
    const reply = parseEngineReply(await this.timed(session.accept(input)));
    return this.onReply(reply, frameStartMs, vad);
  }

  /** `input_audio_buffer.commit`: the buffer becomes an item (an error under 100 ms of audio). */
  async commit(clientEventId: string | undefined): Promise<RealtimeServerMessage[]> {
    const bufferedMs = this.audioMs - this.startMs;
    if (bufferedMs < MIN_COMMIT_MS) {
      return [
        errorMessage(
          {
            type: 'invalid_request_error',
            code: 'input_audio_buffer_commit_empty',
            message: `Error committing input audio buffer: buffer too small. Expected at least ${MIN_COMMIT_MS}ms of audio, but buffer only has ${bufferedMs.toFixed(2)}ms of audio.`,
            param: null,
          },
          clientEventId,
        ),
      ];
    }
    const words = [...this.heard];
    const session = this.engineSession;
    const feed = this.feed;
    this.engineSession = undefined;
    this.feed = undefined;
    if (session !== undefined && feed !== undefined) {
      try {
        const tail = feed.flush();
        if (tail.length > 0) words.push(finalText(parseEngineReply(await this.timed(session.accept(tail)))));
        words.push(finalText(parseEngineReply(await this.timed(session.finish()))));
      } finally {
        await session.close();
      }
    }
    const itemId = this.speech?.itemId ?? realtimeId('item');
    const from = this.speech?.startMs ?? this.startMs;
    return this.item(itemId, words.filter(Boolean).join(' '), from, this.audioMs);
  }

  /** `input_audio_buffer.clear`: the uncommitted audio is dropped, and what the engine heard of it. */
  async clear(): Promise<RealtimeServerMessage[]> {
    const session = this.engineSession;
    this.engineSession = undefined;
    this.feed = undefined;
    this.heard = [];
    this.speech = undefined;
    this.startMs = this.audioMs;
    await session?.close();
    return [clearedMessage()];
  }

  /** Releases the engine session, if one is open. */
  async release(): Promise<void> {
    const session = this.engineSession;
    this.engineSession = undefined;
    await session?.close();
  }

  private engineFor(): EngineSession {
    if (this.engineSession === undefined) {
      this.engineSession = this.engine.createSession(
        { sampleRate: this.engineRate, words: true },
        this.onFailure,
      );
      this.feed = new EngineFeed(this.engineRate);
      this.engineStartMs = this.audioMs;
    }
    return this.engineSession;
  }

  private onReply(
    reply: EngineReply,
    frameStartMs: number,
    vad: ServerVadShape | null,
  ): RealtimeServerMessage[] {
    if (vad === null) {
      if (reply.kind === 'final' && reply.text !== '') this.heard.push(reply.text);
      return [];
    }
    const out: RealtimeServerMessage[] = [];
    if (reply.kind === 'partial') {
      if (reply.text !== '' && this.speech === undefined) this.startSpeech(frameStartMs, vad, out);
      return out;
    }
    const text = finalText(reply);
    if (text === '' && this.speech === undefined) return out; // silence: VAD heard nothing
    if (this.speech === undefined) {
      const first = reply.words[0];
      this.startSpeech(
        first !== undefined ? this.engineStartMs + first.start * 1000 : frameStartMs,
        vad,
        out,
      );
    }
    const speech = this.speech!;
    out.push(speechStoppedMessage(speech.itemId, this.audioMs));
    const heard = [...this.heard, text].filter(Boolean).join(' ');
    out.push(...this.item(speech.itemId, heard, speech.startMs, this.audioMs));
    return out;
  }

  private startSpeech(atMs: number, vad: ServerVadShape, out: RealtimeServerMessage[]): void {
    // The prefix padding goes back before the speech, never before the buffer.
    const startMs = Math.max(this.startMs, atMs - vad.prefix_padding_ms);
    this.speech = { itemId: realtimeId('item'), startMs };
    out.push(speechStartedMessage(this.speech.itemId, startMs));
  }

  /** The buffer up to `endMs` becomes a committed item, transcribed at once. */
  private item(itemId: string, transcript: string, fromMs: number, endMs: number): RealtimeServerMessage[] {
    const out: RealtimeServerMessage[] = [committedMessage(itemId, this.lastItemId)];
    this.lastItemId = itemId;
    this.startMs = endMs;
    this.speech = undefined;
    this.heard = [];
    const words = transcript.split(' ').filter(Boolean);
    for (let i = 0; i < words.length; i++)
      out.push(deltaMessage(itemId, i === 0 ? words[i]! : ` ${words[i]}`));
    out.push(completedMessage(itemId, transcript, (endMs - fromMs) / 1000));
    return out;
  }
}

function finalText(reply: EngineReply): string {
  if (reply.kind !== 'final') return '';
  return reply.words.length > 0 ? reply.words.map((w) => w.word).join(' ') : reply.text.trim();
}
