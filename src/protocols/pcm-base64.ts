/** What Node's Buffer offers for base64 (absent in browsers). */
interface Base64Buffer {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: 'base64'): string };
}

const NodeBuffer = (globalThis as { Buffer?: Base64Buffer }).Buffer;
/** Characters turned into a string per call of `String.fromCharCode` (its argument count is bounded). */
const CHUNK = 0x8000;

/**
 * The base64 of 16-bit samples' bytes (little-endian on every platform this
 * runs on): Node's Buffer over the same memory, no copy; in browsers, `btoa`
 * over a binary string built in chunks.
 */
export function pcmBase64(samples: Int16Array): string {
  if (NodeBuffer !== undefined) {
    return NodeBuffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
  }
  const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return btoa(binary);
}
