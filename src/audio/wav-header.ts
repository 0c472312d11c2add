/** What a WAV file's `fmt ` chunk says about its samples. */
export interface WavFormat {
  /** 1 = integer PCM, 3 = IEEE float; other codes are compressed formats. */
  readonly formatCode: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
  readonly blockAlign: number;
}

/** The result of reading a WAV header from the start of a byte stream. */
export type WavHeaderParse =
  | { readonly status: 'need-more' }
  | { readonly status: 'invalid'; readonly reason: string }
  | {
      readonly status: 'ok';
      readonly format: WavFormat;
      /** Offset of the first sample byte (just past the `data` chunk header). */
      readonly dataOffset: number;
      /** Declared size of the `data` chunk; streams often say 0 or 0xFFFFFFFF, so it is advisory. */
      readonly dataLength: number;
    };

const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Names of the format codes people meet, for error messages. */
const FORMAT_NAMES: Record<number, string> = {
  1: 'PCM',
  2: 'Microsoft ADPCM',
  3: 'IEEE float',
  6: 'A-law',
  7: 'mu-law',
  17: 'IMA ADPCM',
  85: 'MPEG Layer 3',
};

/** A readable name for a WAV format code. */
export function wavFormatName(code: number): string {
  return FORMAT_NAMES[code] ?? `format code 0x${code.toString(16).padStart(4, '0')}`;
}

function ascii(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

/** True when the bytes start like a RIFF file (or could, given more bytes). */
export function looksLikeRiff(bytes: Uint8Array): boolean {
  const magic = [0x52, 0x49, 0x46, 0x46]; // "RIFF"
  for (let i = 0; i < Math.min(4, bytes.length); i++) if (bytes[i] !== magic[i]) return false;
  return true;
}

/**
 * Reads the RIFF/WAVE header at the start of `bytes`, walking chunks until the
 * `data` chunk. Returns `need-more` when the header is not complete yet, so a
 * caller fed by a stream can call it again with more bytes.
 */
export function parseWavHeader(bytes: Uint8Array): WavHeaderParse {
  if (bytes.length < 12) {
    return looksLikeRiff(bytes) ? { status: 'need-more' } : { status: 'invalid', reason: 'not a RIFF file' };
  }
  if (ascii(bytes, 0) !== 'RIFF') return { status: 'invalid', reason: 'not a RIFF file' };
  if (ascii(bytes, 8) !== 'WAVE') {
    return { status: 'invalid', reason: `a RIFF file of type "${ascii(bytes, 8)}", not WAVE` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: WavFormat | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = ascii(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'data') {
      if (format === undefined)
        return { status: 'invalid', reason: 'the data chunk comes before the fmt chunk' };
      return { status: 'ok', format, dataOffset: body, dataLength: size };
    }
    if (id === 'fmt ') {
      if (size < 16)
        return { status: 'invalid', reason: `a fmt chunk of ${size} bytes (at least 16 expected)` };
      if (body + size > bytes.length) return { status: 'need-more' };
      let formatCode = view.getUint16(body, true);
      if (formatCode === WAVE_FORMAT_EXTENSIBLE && size >= 26) {
        // The real format is the first two bytes of the SubFormat GUID.
        formatCode = view.getUint16(body + 24, true);
      }
      format = {
        formatCode,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    }
    // Chunks are padded to an even size.
    offset = body + size + (size % 2);
  }
  return { status: 'need-more' };
}

/** "16000 Hz mono 16-bit PCM", for messages. */
export function describeWavFormat(format: WavFormat): string {
  const channels =
    format.channels === 1 ? 'mono' : format.channels === 2 ? 'stereo' : `${format.channels}-channel`;
  return `${format.sampleRate} Hz ${channels} ${format.bitsPerSample}-bit ${wavFormatName(format.formatCode)}`;
}
