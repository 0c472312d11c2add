import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** What the proxy does to one connection. */
export interface FaultPlan {
  /** After this many bytes from the client, reset both sides (RST), as a dropped network does. */
  readonly resetAfterBytes?: number;
  /** After this many bytes from the client, forward nothing more either way, and close nothing. */
  readonly stallAfterBytes?: number;
  /** The same, this long after the connection was accepted. */
  readonly stallAfterMs?: number;
  /** After this many bytes from the client, close the client's side with this WebSocket close code. */
  readonly closeAfterBytes?: { readonly bytes: number; readonly code: number; readonly reason: string };
  /** Hold every chunk this long, both ways. */
  readonly delayMs?: number;
  /** Forward the client's bytes no faster than this (a slow uplink). */
  readonly throttleBytesPerSecond?: number;
}

export interface FaultProxy {
  readonly url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Changes the plan for connections from now on. */
  setPlan(plan: (connection: number) => FaultPlan): void;
  /** Connections open now (through the proxy, both sides up or stalled). */
  readonly active: number;
  /** Resets (RST) both sides of every connection open now; returns how many. For scheduled faults. */
  reset(): number;
  /**
   * Stalls every connection open now: nothing more forwarded either way,
   * nothing closed. Returns how many were not stalled already.
   */
  stall(): number;
  close(): Promise<void>;
}

/** A WebSocket close frame from a server (unmasked). */
function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}

/**
 * A TCP proxy on loopback between a client and a server, breaking
 * connections as the plan says: reset at a chosen byte, stall without
 * closing, close with a chosen code, or delay.
 */
export async function faultProxy(
  targetPort: number,
  initial: (connection: number) => FaultPlan = () => ({}),
): Promise<FaultProxy> {
  let plan = initial;
  let connections = 0;
  const sockets = new Set<Socket>();
  /** Live connections, for faults on demand: reset() and stall() act on these. */
  const live = new Set<{ reset(): void; stall(): boolean }>();
  const server: Server = createServer((client) => {
    const index = connections++;
    const faults = plan(index);
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let fromClient = 0;
    let stalled = false;
    if (faults.stallAfterMs !== undefined) {
      const timer = setTimeout(() => {
        stalled = true;
      }, faults.stallAfterMs);
      client.on('close', () => clearTimeout(timer));
    }
    const handle = {
      reset() {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      },
      stall() {
        const was = stalled;
        stalled = true;
        return !was;
      },
    };
    live.add(handle);
    let throttledUntil = Date.now();
    const forward = (to: Socket, data: Buffer): void => {
      if (stalled || to.destroyed) return;
      let wait = faults.delayMs ?? 0;
      if (faults.throttleBytesPerSecond !== undefined && to === upstream) {
        // Each chunk leaves when the ones before it have, at the throttled rate.
        throttledUntil =
          Math.max(throttledUntil, Date.now()) + (data.length / faults.throttleBytesPerSecond) * 1000;
        wait = Math.max(wait, throttledUntil - Date.now());
        if (wait > 0 && !client.isPaused()) {
          client.pause();
          setTimeout(() => client.resume(), wait);
        }
      }
      if (wait > 0) setTimeout(() => !stalled && !to.destroyed && to.write(data), wait);
      else to.write(data);
    };
    client.on('data', (data: Buffer) => {
      fromClient += data.length;
      if (faults.resetAfterBytes !== undefined && fromClient >= faults.resetAfterBytes) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
        return;
      }
      if (faults.stallAfterBytes !== undefined && fromClient >= faults.stallAfterBytes) stalled = true;
      if (faults.closeAfterBytes !== undefined && fromClient >= faults.closeAfterBytes.bytes) {
        stalled = true;
        client.end(closeFrame(faults.closeAfterBytes.code, faults.closeAfterBytes.reason));
        upstream.destroy();
        return;
      }
      forward(upstream, data);
    });
    upstream.on('data', (data: Buffer) => forward(client, data));
    const drop = (): void => {
      live.delete(handle);
      sockets.delete(client);
      sockets.delete(upstream);
      if (!stalled) {
        client.destroy();
        upstream.destroy();
      }
    };
    client.on('close', () => {
      upstream.destroy();
      drop();
    });
    upstream.on('close', () => {
      if (!stalled) client.destroy();
      drop();
    });
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return connections;
    },
    setPlan(next) {
      plan = next;
    },
    get active() {
      return live.size;
    },
    reset() {
      const now = [...live];
      for (const connection of now) connection.reset();
      return now.length;
    },
    stall() {
      let stalledNow = 0;
      for (const connection of live) if (connection.stall()) stalledNow += 1;
      return stalledNow;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
