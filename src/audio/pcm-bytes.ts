import { type AudioFormat, bytesPerSample, type Samples } from './audio-format.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const EMPTY = new Uint8Array(0);

/**
 * Decodes little-endian PCM bytes into a new typed array (whole samples only).
 * With `asView`, for bytes that will never be written again, the result is a
 * view of them where the platform and their alignment allow, not a copy.
 */
export function decodePcmBytes(
  bytes: Uint8Array,
  encoding: AudioFormat['encoding'],
  asView = false,
): Samples {
  const size = bytesPerSample(encoding);
  const count = Math.floor(bytes.length / size);
  if (LITTLE_ENDIAN && asView && bytes.byteOffset % size === 0) {
    return encoding === 'pcm_s16le'
      ? new Int16Array(bytes.buffer, bytes.byteOffset, count)
      : new Float32Array(bytes.buffer, bytes.byteOffset, count);
  }
  if (LITTLE_ENDIAN) {
    // Copy into a fresh, aligned buffer: the input may be a view at an odd offset, and
    // reused. (Not bytes.slice(): on a Node Buffer that is a view, not a copy.)
    const copy = new Uint8Array(bytes.subarray(0, count * size)).buffer;
    return encoding === 'pcm_s16le' ? new Int16Array(copy) : new Float32Array(copy);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * size);
  if (encoding === 'pcm_s16le') {
    const out = new Int16Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
    return out;
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Encodes samples as little-endian bytes (a view when the platform is little-endian). */
export function encodePcmBytes(samples: Samples): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  const out = new Uint8Array(samples.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) {
    if (samples instanceof Int16Array) view.setInt16(i * 2, samples[i]!, true);
    else view.setFloat32(i * 4, samples[i]!, true);
  }
  return out;
}

/**
 * Turns a stream of byte chunks, split anywhere, into whole sample frames:
 * the bytes of a frame split across two chunks are joined, not dropped.
 */
export class PcmByteDecoder {
  /** Bytes of one sample frame (every channel's sample). */
  readonly frameBytes: number;
  private carry: Uint8Array = EMPTY;
  private readonly immutableInput: boolean;

  /**
   * `immutableInput`: the bytes pushed are never written again (a fresh buffer
   * per read), so the samples may be views of them rather than copies.
   */
  constructor(
    readonly format: AudioFormat,
    options: { readonly immutableInput?: boolean } = {},
  ) {
    this.frameBytes = bytesPerSample(format.encoding) * format.channels;
    this.immutableInput = options.immutableInput ?? false;
  }

  /** Bytes held back: the start of a sample frame whose end has not arrived. */
  get pendingBytes(): number {
    return this.carry.length;
  }

  /** Decodes what whole frames `bytes` completes; returns undefined when there are none yet. */
  push(bytes: Uint8Array): Samples | undefined {
    let input = bytes;
    let owned = this.immutableInput;
    if (this.carry.length > 0) {
      input = new Uint8Array(this.carry.length + bytes.length);
      input.set(this.carry, 0);
      input.set(bytes, this.carry.length);
      owned = true; // joined here: nobody else holds it
    }
    const whole = input.length - (input.length % this.frameBytes);
    // A copy: the caller may reuse its buffer.
    this.carry = whole === input.length ? EMPTY : new Uint8Array(input.subarray(whole));
    if (whole === 0) return undefined;
    return decodePcmBytes(input.subarray(0, whole), this.format.encoding, owned);
  }
}
