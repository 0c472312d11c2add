import type {
  ClientSecretCreateResponse,
  RealtimeTranscriptionSessionCreateResponse,
} from 'openai/resources/realtime/client-secrets';
import type {
  ConversationItemInputAudioTranscriptionCompletedEvent,
  ConversationItemInputAudioTranscriptionDeltaEvent,
  InputAudioBufferClearedEvent,
  InputAudioBufferCommittedEvent,
  InputAudioBufferSpeechStartedEvent,
  InputAudioBufferSpeechStoppedEvent,
  RealtimeErrorEvent,
  RealtimeServerEvent,
  RealtimeTranscriptionSessionCreateRequest,
  SessionCreatedEvent,
  SessionUpdatedEvent,
} from 'openai/resources/realtime/realtime';
import { describe, expect, it } from 'vitest';
import {
  type ClearedMessage,
  type CommittedMessage,
  clearedMessage,
  committedMessage,
  completedMessage,
  deltaMessage,
  errorMessage,
  invalidApiKeyMessage,
  type RealtimeErrorMessage,
  type RealtimeServerMessage,
  type SessionMessage,
  type SpeechStartedMessage,
  type SpeechStoppedMessage,
  sessionExpiredMessage,
  sessionMessage,
  speechStartedMessage,
  speechStoppedMessage,
  type TranscriptionCompletedMessage,
  type TranscriptionDeltaMessage,
} from '../../src/server/openai/messages.js';
import {
  applySessionUpdate,
  defaultSession,
  type TranscriptionSessionShape,
} from '../../src/server/openai/session-config.js';

/**
 * Type fidelity: what the emulator's builders return must be what OpenAI's
 * SDK (`openai` 7.59.0, the GA Realtime types) declares for the server events
 * of a transcription session. Only the compiler (`npx tsc -p tsconfig.json
 * --noEmit`, which covers spec/) can tell a shape that drifted: each
 * `assignable` and `satisfies` below fails to compile if one did.
 */

/** Compiles only when the first type is assignable to the second. */
function assignable<_Ours extends Sdk, Sdk>(): boolean {
  return true;
}

describe("OpenAI Realtime emulator events against the SDK's types", () => {
  it('declares event types assignable to the SDK event types', () => {
    expect(assignable<SessionMessage & { type: 'session.created' }, SessionCreatedEvent>()).toBe(true);
    expect(assignable<SessionMessage & { type: 'session.updated' }, SessionUpdatedEvent>()).toBe(true);
    expect(assignable<TranscriptionSessionShape, RealtimeTranscriptionSessionCreateRequest>()).toBe(true);
    expect(assignable<TranscriptionSessionShape, RealtimeTranscriptionSessionCreateResponse>()).toBe(true);
    expect(assignable<SpeechStartedMessage, InputAudioBufferSpeechStartedEvent>()).toBe(true);
    expect(assignable<SpeechStoppedMessage, InputAudioBufferSpeechStoppedEvent>()).toBe(true);
    expect(assignable<CommittedMessage, InputAudioBufferCommittedEvent>()).toBe(true);
    expect(assignable<ClearedMessage, InputAudioBufferClearedEvent>()).toBe(true);
    expect(assignable<TranscriptionDeltaMessage, ConversationItemInputAudioTranscriptionDeltaEvent>()).toBe(
      true,
    );
    expect(
      assignable<TranscriptionCompletedMessage, ConversationItemInputAudioTranscriptionCompletedEvent>(),
    ).toBe(true);
    expect(assignable<RealtimeErrorMessage, RealtimeErrorEvent>()).toBe(true);
    expect(assignable<RealtimeServerMessage, RealtimeServerEvent>()).toBe(true);
  });

  it('builds events that satisfy the SDK types', () => {
    const session = defaultSession('sess_x', 0);
    const updated = applySessionUpdate(session, {
      type: 'transcription',
      audio: { input: { turn_detection: null, noise_reduction: { type: 'near_field' } } },
    });
    if ('param' in updated) throw new Error(updated.message);
    const events = [
      sessionMessage('session.created', session) satisfies SessionCreatedEvent,
      sessionMessage('session.updated', updated) satisfies SessionUpdatedEvent,
      speechStartedMessage('item_1', 120) satisfies InputAudioBufferSpeechStartedEvent,
      speechStoppedMessage('item_1', 1500) satisfies InputAudioBufferSpeechStoppedEvent,
      committedMessage('item_1', null) satisfies InputAudioBufferCommittedEvent,
      clearedMessage() satisfies InputAudioBufferClearedEvent,
      deltaMessage('item_1', 'hello') satisfies ConversationItemInputAudioTranscriptionDeltaEvent,
      completedMessage(
        'item_1',
        'hello world',
        1.38,
      ) satisfies ConversationItemInputAudioTranscriptionCompletedEvent,
      errorMessage(
        { type: 'invalid_request_error', code: 'invalid_value', message: 'm', param: 'audio' },
        'evt_1',
      ) satisfies RealtimeErrorEvent,
      sessionExpiredMessage(60 * 60 * 1000) satisfies RealtimeErrorEvent,
      invalidApiKeyMessage() satisfies RealtimeErrorEvent,
    ] satisfies RealtimeServerEvent[];
    // And what goes on the wire reads back as the same events.
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
    expect(sessionExpiredMessage(60 * 60 * 1000).error.message).toBe(
      'Your session hit the maximum duration of 60 minutes.',
    );
    const secret = { value: 'ek_x', expires_at: 0, session } satisfies ClientSecretCreateResponse;
    expect(secret.session.type).toBe('transcription');
  });
});
