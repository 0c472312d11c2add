import { randomFillSync } from 'node:crypto';

/**
 * Makes the masks of client frames, for the driver's frame writer and for
 * what still goes through `ws`: random, as RFC 6455 wants, from a pool filled
 * 8 KiB at a time (as `ws` does), but never all zero. Under a zero mask `ws`
 * sends the caller's own buffer instead of a masked copy, and the session
 * reuses the memory of the frames it sends (SocketDriver.send).
 *
 * @param fill fills a buffer with random bytes (for tests).
 */
export function maskGenerator(fill: (pool: Uint8Array) => void = randomFillSync): (mask: Uint8Array) => void {
  const pool = new Uint8Array(8192);
  let at = pool.length;
  return (mask) => {
    do {
      if (at === pool.length) {
        fill(pool);
        at = 0;
      }
      // Byte by byte: a subarray to copy from was an object per frame.
      mask[0] = pool[at]!;
      mask[1] = pool[at + 1]!;
      mask[2] = pool[at + 2]!;
      mask[3] = pool[at + 3]!;
      at += 4;
    } while ((mask[0]! | mask[1]! | mask[2]! | mask[3]!) === 0);
  };
}
