import { packageRequire } from '../server/package-root.js';

/** `out[at + i] = source[i] ^ mask[i % 4]` for every byte of `source`. */
export type MaskFunction = (source: Uint8Array, mask: Uint8Array, out: Uint8Array, at: number) => void;

/** Below this many bytes a call into the addon costs more than the loop it saves (`ws` uses 48). */
export const NATIVE_MASK_MIN_BYTES = 64;

/** What `bufferutil` exports, as far as it is used here. */
interface BufferUtil {
  mask?: unknown;
}

/**
 * The mask of the `bufferutil` addon (by the `ws` authors) where it is
 * installed and its native part loaded, else undefined: about 0.18 µs for a
 * 3,200-byte frame against 1.3 µs in JavaScript (decision 0011). Its own
 * JavaScript fallback is not used (the writer's loop is faster), and
 * `WS_NO_BUFFER_UTIL`, `ws`'s switch for the addon, turns it off here too.
 *
 * @param load loads the addon (for tests); by default `require('bufferutil')` from this package.
 */
export function nativeMask(load: () => BufferUtil = loadBufferUtil): MaskFunction | undefined {
  if (process.env.WS_NO_BUFFER_UTIL) return undefined;
  let mask: unknown;
  try {
    mask = load().mask;
  } catch {
    return undefined; // not installed, or no build for this platform
  }
  if (typeof mask !== 'function' || !Function.prototype.toString.call(mask).includes('[native code]')) {
    return undefined;
  }
  const addonMask = mask as (
    source: Uint8Array,
    mask: Uint8Array,
    out: Uint8Array,
    at: number,
    length: number,
  ) => void;
  return (source, maskBytes, out, at) => addonMask(source, maskBytes, out, at, source.byteLength);
}

function loadBufferUtil(): BufferUtil {
  return packageRequire()('bufferutil') as BufferUtil;
}
