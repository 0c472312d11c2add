import type { BeginEvent, ErrorEvent, StreamingEventMessage, TerminationEvent, TurnEvent } from 'assemblyai';
import { describe, expect, it } from 'vitest';
import {
  type AssemblyAIServerMessage,
  type BeginMessage,
  type ErrorMessage,
  errorMessage,
  type TerminationMessage,
  type TurnMessage,
  terminationMessage,
} from '../../src/server/assemblyai/messages.js';
import { TurnTimeline } from '../../src/server/assemblyai/turn-timeline.js';
import { EMPTY_FINAL } from '../../src/server/deepgram/engine-reply.js';

/**
 * Type fidelity: what the emulator sends must be what AssemblyAI's SDK
 * (`assemblyai` 4.41.5) declares for the messages of `/v3/ws`. The SDK
 * dispatches on `type` after a bare `JSON.parse`, so only the compiler
 * (`npx tsc -p tsconfig.json --noEmit`, which covers spec/) tells a shape that
 * drifted: each `satisfies` below fails to compile if one did.
 */

/** Compiles only when the first type is assignable to the second. */
function assignable<_Ours extends Sdk, Sdk>(): boolean {
  return true;
}

describe("AssemblyAI message builders against the SDK's types", () => {
  it('declares wire types assignable to the SDK event types', () => {
    expect(assignable<BeginMessage, BeginEvent>()).toBe(true);
    expect(assignable<TurnMessage, TurnEvent>()).toBe(true);
    expect(assignable<TerminationMessage, TerminationEvent>()).toBe(true);
    expect(assignable<ErrorMessage, ErrorEvent>()).toBe(true);
    expect(assignable<AssemblyAIServerMessage, StreamingEventMessage>()).toBe(true);
  });

  it('builds messages that satisfy the SDK types, from a real timeline', () => {
    const timeline = new TurnTimeline(16000, true);
    timeline.engineStarted();
    timeline.advance(16000);
    expect(timeline.onReply({ kind: 'partial', text: 'hello there' }, 'audio')).toHaveLength(1);
    const partial = timeline.onReply({ kind: 'partial', text: 'hello there friend' }, 'audio')[0]!;
    partial satisfies TurnEvent;
    expect(partial).toMatchObject({ end_of_turn: false, turn_order: 0 });
    const turns = timeline.onReply(
      {
        kind: 'final',
        text: 'hello there',
        words: [
          { word: 'hello', start: 0.1, end: 0.4, conf: 0.9 },
          { word: 'there', start: 0.5, end: 0.8, conf: 1.2 },
        ],
      },
      'audio',
    );
    const [plain, formatted] = turns as [TurnMessage, TurnMessage];
    plain satisfies TurnEvent;
    formatted satisfies TurnEvent;
    expect(plain.words).toEqual([
      { start: 100, end: 400, confidence: 0.9, text: 'hello', word_is_final: true },
      // Confidences are kept within [0, 1], as AssemblyAI's.
      { start: 500, end: 800, confidence: 1, text: 'there', word_is_final: true },
    ]);
    expect(formatted).toMatchObject({ turn_is_formatted: true, transcript: 'Hello there.' });
    expect(timeline.onReply(EMPTY_FINAL, 'flush')).toEqual([]);
    const begin: BeginMessage = { type: 'Begin', id: 'id', expires_at: 1 };
    begin satisfies BeginEvent;
    terminationMessage(12.4, 13.6) satisfies TerminationEvent;
    expect(terminationMessage(12.4, 13.6)).toEqual({
      type: 'Termination',
      audio_duration_seconds: 12,
      session_duration_seconds: 14,
    });
    errorMessage(3007, 'x') satisfies ErrorEvent;
  });
});
