import { describe, expect, it } from 'vitest';
import { CloseCode, closeReason, parseClientMessage } from '../../src/server/client-message.js';

describe('parseClientMessage', () => {
  it('takes {"eof" : 1} with and without spaces', () => {
    expect(parseClientMessage('{"eof" : 1}')).toEqual({ type: 'eof' });
    expect(parseClientMessage('{"eof":1}')).toEqual({ type: 'eof' });
  });

  it('reads sample_rate and words from a config, ignoring keys Vosk ignores too', () => {
    expect(
      parseClientMessage('{"config": {"sample_rate": 16000, "words": true, "max_alternatives": 0}}'),
    ).toEqual({
      type: 'config',
      sampleRate: 16000,
      words: true,
    });
    expect(parseClientMessage('{"config": {}}')).toEqual({ type: 'config' });
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
    for (const rate of ['"16000"', '-1', '0', 'null']) {
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
