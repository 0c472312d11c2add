import type { listen } from '@deepgram/sdk';
import { describe, expect, it } from 'vitest';
import {
  type ConnectionIdentity,
  type DeepgramMetadata,
  type DeepgramResults,
  type DeepgramSpeechStarted,
  type DeepgramUtteranceEnd,
  metadataMessage,
  resultsMessage,
  speechStartedMessage,
  utteranceEndMessage,
} from '../../src/server/deepgram/messages.js';

/**
 * Type fidelity: what the emulator's builders return must be what Deepgram's
 * SDK (@deepgram/sdk 5.13.0) declares for the messages of `/v1/listen`. The
 * SDK parses with `JSON.parse` and no schema, so only the compiler
 * (`npx tsc -p tsconfig.json --noEmit`, which covers spec/) can tell a shape
 * that drifted: each `satisfies` below fails to compile if one did.
 */

const identity: ConnectionIdentity = {
  requestId: '00000000-0000-4000-a000-000000000000',
  modelInfo: { name: 'synthetic', version: '1', arch: 'rxjs-transcribe' },
  modelUuid: '11111111-1111-4111-a111-111111111111',
  created: new Date(0),
};

/** Compiles only when the first type is assignable to the second. */
function assignable<_Ours extends Sdk, Sdk>(): boolean {
  return true;
}

describe("Deepgram message builders against the SDK's types", () => {
  it('declares wire types assignable to the SDK message types', () => {
    expect(assignable<DeepgramResults, listen.ListenV1Results>()).toBe(true);
    expect(assignable<DeepgramMetadata, listen.ListenV1Metadata>()).toBe(true);
    expect(assignable<DeepgramUtteranceEnd, listen.ListenV1UtteranceEnd>()).toBe(true);
    expect(assignable<DeepgramSpeechStarted, listen.ListenV1SpeechStarted>()).toBe(true);
  });

  it('builds Results, Metadata, UtteranceEnd and SpeechStarted that satisfy the SDK types', () => {
    const results = resultsMessage(identity, {
      start: 0,
      duration: 1.25,
      isFinal: true,
      speechFinal: true,
      fromFinalize: false,
      transcript: 'hello world',
      confidence: 0.9,
      words: [
        { word: 'hello', start: 0.1, end: 0.5, confidence: 0.9, punctuated_word: 'hello' },
        { word: 'world', start: 0.6, end: 1.1, confidence: 0.9 },
      ],
    }) satisfies listen.ListenV1Results;
    const metadata = metadataMessage(identity, {
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      duration: 1.25,
    }) satisfies listen.ListenV1Metadata;
    const utteranceEnd = utteranceEndMessage(1.1) satisfies listen.ListenV1UtteranceEnd;
    const speechStarted = speechStartedMessage(0.1) satisfies listen.ListenV1SpeechStarted;

    // And at run time, the fields the SDK's types require are there.
    expect(Object.keys(results).sort()).toEqual(
      [
        'type',
        'channel_index',
        'duration',
        'start',
        'is_final',
        'speech_final',
        'from_finalize',
        'channel',
        'metadata',
      ].sort(),
    );
    expect(metadata.models).toEqual([identity.modelUuid]);
    expect(utteranceEnd).toEqual({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: 1.1 });
    expect(speechStarted).toEqual({ type: 'SpeechStarted', channel: [0, 1], timestamp: 0.1 });
  });
});
