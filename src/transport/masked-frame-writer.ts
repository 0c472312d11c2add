import { type MaskFunction, NATIVE_MASK_MIN_BYTES } from './native-mask.js';

/** What the writer needs of a socket: Node's `net.Socket` has it. */
export interface ByteSocket {
  write(data: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  /** Bytes the socket holds, not yet handed to the system. */
  readonly writableLength: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** The least a buffer is made with: one frame of 100 ms at 16 kHz and its header fit. */
const MIN_CAPACITY = 4 * 1024;

/**
 * Writes masked binary WebSocket frames (RFC 6455 5.2, client to server) to a
 * socket from one buffer it reuses. `ws` masks every frame into a fresh
 * buffer; at thousands of live streams that churn of external memory kept
 * V8's old generation under its marking threshold, so V8 marked without pause,
 * and marking a large heap was most of the cost of a frame (decision 0012).
 * Frames appended in a batch leave in one write. The buffer is reused only
 * once the socket has handed all of it to the system (`writableLength` 0 right
 * after the write); while the socket holds it, the next write gets a new one.
 */
export class MaskedFrameWriter {
  private buffer: Uint8Array | undefined;
  private length = 0;
  private callbacks: Array<() => void> | undefined;
  private readonly mask = new Uint8Array(4);

  /**
   * @param generateMask fills 4 bytes with a fresh mask (RFC 6455 wants them unpredictable).
   * @param fastMask masks payloads of at least {@link NATIVE_MASK_MIN_BYTES} (the addon's, where
   *   installed: see `nativeMask`); smaller ones, and all without it, are masked by {@link maskInto}.
   */
  constructor(
    private readonly generateMask: (mask: Uint8Array) => void,
    private readonly fastMask?: MaskFunction,
  ) {}

  /** Bytes appended and not yet written. */
  get pending(): number {
    return this.length;
  }

  /** Appends one final binary frame of `payload` (masked here: `payload` is only read). */
  append(payload: Uint8Array, onSent?: () => void): void {
    const size = payload.byteLength;
    const header = size < 126 ? 6 : size < 65_536 ? 8 : 14;
    const at = this.reserve(header + size);
    const out = this.buffer!;
    out[at] = 0x82; // FIN, binary
    if (size < 126) out[at + 1] = 0x80 | size;
    else if (size < 65_536) {
      out[at + 1] = 0x80 | 126;
      out[at + 2] = size >>> 8;
      out[at + 3] = size & 0xff;
    } else {
      out[at + 1] = 0x80 | 127;
      const high = Math.floor(size / 2 ** 32);
      for (let k = 0; k < 4; k++) out[at + 2 + k] = (high >>> (24 - 8 * k)) & 0xff;
      for (let k = 0; k < 4; k++) out[at + 6 + k] = (size >>> (24 - 8 * k)) & 0xff;
    }
    const mask = this.mask;
    this.generateMask(mask);
    out.set(mask, at + header - 4);
    if (this.fastMask !== undefined && size >= NATIVE_MASK_MIN_BYTES)
      this.fastMask(payload, mask, out, at + header);
    else maskInto(payload, mask, out, at + header);
    if (onSent !== undefined) {
      if (this.callbacks === undefined) this.callbacks = [onSent];
      else this.callbacks.push(onSent);
    }
  }

  /** Writes what was appended, in one write; the callbacks run once it has left. */
  flush(socket: ByteSocket): void {
    if (this.length === 0) return;
    const out = this.buffer!.subarray(0, this.length);
    const callbacks = this.callbacks;
    this.length = 0;
    this.callbacks = undefined;
    socket.write(
      out,
      callbacks === undefined
        ? undefined
        : () => {
            for (const callback of callbacks) callback();
          },
    );
    // Still held by the socket (a full send buffer): it is the socket's until written.
    // Or grown for a burst (a replay, a file read) well past what passes write now: a
    // live stream goes back to a buffer of its size, not the burst's.
    if (socket.writableLength > 0 || this.buffer!.length > 4 * Math.max(out.length, MIN_CAPACITY)) {
      this.buffer = undefined;
    }
  }

  /** Drops what was appended and not written. */
  clear(): void {
    this.length = 0;
    this.callbacks = undefined;
  }

  /** Room for `size` more bytes; returns where they go. */
  private reserve(size: number): number {
    const at = this.length;
    const buffer = this.buffer;
    if (buffer === undefined || buffer.length < at + size) {
      // Twice the old size when growing within a pass; the size of the pass, to the KiB, at first.
      const needed = at + size;
      const grown = new Uint8Array(
        buffer !== undefined && at > 0
          ? Math.max(needed, buffer.length * 2)
          : Math.max(MIN_CAPACITY, Math.ceil(needed / 1024) * 1024),
      );
      if (buffer !== undefined && at > 0) grown.set(buffer.subarray(0, at));
      this.buffer = grown;
    }
    this.length = at + size;
    return at;
  }
}

/** `out[at + i] = source[i] ^ mask[i % 4]`, four bytes at a time where both are aligned. */
export function maskInto(source: Uint8Array, mask: Uint8Array, out: Uint8Array, at: number): void {
  const size = source.byteLength;
  let i = 0;
  if (size >= 16 && ((source.byteOffset | (out.byteOffset + at)) & 3) === 0) {
    const words = size >>> 2;
    const from = new Uint32Array(source.buffer, source.byteOffset, words);
    const to = new Uint32Array(out.buffer, out.byteOffset + at, words);
    const m = LITTLE_ENDIAN
      ? (mask[0]! | (mask[1]! << 8) | (mask[2]! << 16) | (mask[3]! << 24)) >>> 0
      : ((mask[0]! << 24) | (mask[1]! << 16) | (mask[2]! << 8) | mask[3]!) >>> 0;
    for (let w = 0; w < words; w++) to[w] = from[w]! ^ m;
    i = words << 2;
  }
  for (; i < size; i++) out[at + i] = source[i]! ^ mask[i & 3]!;
}
