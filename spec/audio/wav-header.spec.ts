import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeWavFormat, parseWavHeader } from '../../src/audio/wav-header.js';
import { wavHeader } from '../helpers/audio.js';

/** A header with a LIST chunk between fmt and data, as many tools write. */
function headerWithList(listBytes: number): Buffer {
  const plain = wavHeader(1000);
  const list = Buffer.alloc(8 + listBytes + (listBytes % 2));
  list.write('LIST', 0, 'ascii');
  list.writeUInt32LE(listBytes, 4);
  return Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
}

describe('parseWavHeader', () => {
  it('reads a canonical 44-byte header', () => {
    const parsed = parseWavHeader(wavHeader(3200, 16000));
    expect(parsed).toEqual({
      status: 'ok',
      format: { formatCode: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16, blockAlign: 2 },
      dataOffset: 44,
      dataLength: 3200,
    });
  });

  it('walks past other chunks, including odd-sized ones (padded)', () => {
    for (const size of [0, 1, 7, 26]) {
      const header = headerWithList(size);
      const parsed = parseWavHeader(header);
      expect(parsed.status).toBe('ok');
      if (parsed.status === 'ok') expect(parsed.dataOffset).toBe(header.length);
    }
  });

  it('asks for more bytes for every proper prefix of a valid header, and never misreads one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 200 }), (list, cut) => {
        const header = headerWithList(list);
        const prefix = header.subarray(0, Math.min(cut, header.length - 1));
        expect(parseWavHeader(prefix).status).toBe('need-more');
        expect(parseWavHeader(header).status).toBe('ok');
      }),
    );
  });

  it('says what is wrong with files that are not WAV', () => {
    expect(parseWavHeader(Buffer.from('ID3\x03 this is an mp3 file'))).toEqual({
      status: 'invalid',
      reason: 'not a RIFF file',
    });
    const avi = wavHeader(0);
    avi.write('AVI ', 8, 'ascii');
    expect(parseWavHeader(avi)).toMatchObject({ status: 'invalid', reason: expect.stringContaining('AVI') });
  });

  it('reads the real format of WAVE_FORMAT_EXTENSIBLE and names compressed formats', () => {
    const ext = Buffer.alloc(68);
    ext.write('RIFF', 0, 'ascii');
    ext.write('WAVE', 8, 'ascii');
    ext.write('fmt ', 12, 'ascii');
    ext.writeUInt32LE(40, 16);
    ext.writeUInt16LE(0xfffe, 20);
    ext.writeUInt16LE(2, 22);
    ext.writeUInt32LE(48000, 24);
    ext.writeUInt16LE(8, 32);
    ext.writeUInt16LE(32, 34);
    ext.writeUInt16LE(3, 20 + 24); // SubFormat: IEEE float
    ext.write('data', 60, 'ascii');
    const parsed = parseWavHeader(ext);
    expect(parsed.status).toBe('ok');
    if (parsed.status === 'ok') {
      expect(parsed.format.formatCode).toBe(3);
      expect(describeWavFormat(parsed.format)).toBe('48000 Hz stereo 32-bit IEEE float');
    }
    const adpcm = parseWavHeader(wavHeader(0, 8000, 1, 4, 17));
    expect(adpcm.status === 'ok' && describeWavFormat(adpcm.format)).toBe('8000 Hz mono 4-bit IMA ADPCM');
  });
});
