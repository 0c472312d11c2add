import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  closeReason,
  MAX_ALTERNATIVES,
  parseClientMessage,
} from '../../src/server/client-message.js';

describe('parseClientMessage', () => {
  it('takes {"eof" : 1} with and without spaces', () => {
    expect(parseClientMessage('{"eof" : 1}')).toEqual({ type: 'eof' });
    expect(parseClientMessage('{"eof":1}')).toEqual({ type: 'eof' });
  });

  it('takes {"reset" : 1} with and without spaces', () => {
    expect(parseClientMessage('{"reset" : 1}')).toEqual({ type: 'reset' });
    expect(parseClientMessage('{"reset":1}')).toEqual({ type: 'reset' });
    expect(parseClientMessage('{"reset": 0}')).toMatchObject({ code: CloseCode.invalidPayload });
  });

  it('reads sample_rate, words, max_alternatives and phrase_list from a config, ignoring the model key', () => {
    expect(
      parseClientMessage(
        '{"config": {"sample_rate": 8000, "words": true, "max_alternatives": 5, "phrase_list": ["one two", "three"], "model": "x"}}',
      ),
    ).toEqual({
      type: 'config',
      sampleRate: 8000,
      words: true,
      maxAlternatives: 5,
      phraseList: ['one two', 'three'],
    });
    expect(parseClientMessage('{"config": {}}')).toEqual({ type: 'config' });
  });

  it("reads numbers sent as strings, as the Vosk server's float() and int() do", () => {
    expect(parseClientMessage('{"config": {"sample_rate": "8000", "max_alternatives": "2"}}')).toEqual({
      type: 'config',
      sampleRate: 8000,
      maxAlternatives: 2,
    });
  });

  it('caps max_alternatives at MAX_ALTERNATIVES and refuses a negative one or a phrase_list of non-strings', () => {
    expect(parseClientMessage('{"config": {"max_alternatives": 100000}}')).toEqual({
      type: 'config',
      maxAlternatives: MAX_ALTERNATIVES,
    });
    expect(parseClientMessage('{"config": {"max_alternatives": -1}}')).toMatchObject({
      code: CloseCode.invalidPayload,
    });
    expect(parseClientMessage('{"config": {"phrase_list": [1, 2]}}')).toMatchObject({
      code: CloseCode.invalidPayload,
    });
  });

  it('refuses text that is not JSON with 1007 and shows what came', () => {
    const result = parseClientMessage('hello there');
    expect(result).toMatchObject({ type: 'refusal', code: CloseCode.invalidPayload });
    expect((result as { reason: string }).reason).toContain('hello there');
  });

  it('refuses JSON it does not know with 1003, naming the keys', () => {
    const result = parseClientMessage('{"speak": "now"}');
    expect(result).toMatchObject({ type: 'refusal', code: CloseCode.unsupportedData });
    expect((result as { reason: string }).reason).toContain('speak');
    expect(parseClientMessage('[1,2]')).toMatchObject({ code: CloseCode.unsupportedData });
  });

  it('refuses a config with a sample rate that is not a positive number with 1007', () => {
    for (const rate of ['"fast"', '-1', '0', 'null']) {
      expect(parseClientMessage(`{"config": {"sample_rate": ${rate}}}`)).toMatchObject({
        code: CloseCode.invalidPayload,
      });
    }
    expect(parseClientMessage('{"config": 5}')).toMatchObject({ code: CloseCode.invalidPayload });
    expect(parseClientMessage('{"eof": 0}')).toMatchObject({ code: CloseCode.invalidPayload });
  });
});

describe('closeReason', () => {
  it('keeps short reasons and cuts long ones to 123 bytes on a character boundary', () => {
    expect(closeReason('short')).toBe('short');
    const long = 'é'.repeat(200);
    const cut = closeReason(long);
    expect(new TextEncoder().encode(cut).length).toBeLessThanOrEqual(123);
    expect(cut.endsWith('...')).toBe(true);
    expect(cut).not.toContain('\uFFFD');
  });
});
