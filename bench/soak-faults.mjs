// The soak's fault injection: the reference server in a process of its own
// (so it can be killed and started again on the same port), and the TCP fault
// proxy of the specs between the client and it, loaded through esbuild.
import { startServerProcess } from './lib.mjs';
import { loadTs } from './load-ts.mjs';

/** The kinds of fault, in the order the schedule cycles through them. */
export const FAULT_KINDS = ['reset', 'stall', 'server-kill', 'server-restart'];

/**
 * bench/server-process.mjs on `port` (0: a free one). Resolves once it
 * listens, to its port and two ways to stop it: kill() (SIGKILL, as a crash:
 * connections drop without a close frame) and stop() (stdin ends: the server
 * closes its sessions with 1001 and exits).
 */
async function serverProcess(port) {
  const server = await startServerProcess(['--port', String(port)]);
  return {
    port: Number(new URL(server.url).port),
    kill: async () => {
      process.kill(server.pid, 'SIGKILL');
      // Gone once signal 0 fails (the child is reaped): its port is free then.
      for (let i = 0; i < 200; i++) {
        try {
          process.kill(server.pid, 0);
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    stop: () => server.stop(),
  };
}

/**
 * The server and the proxy in front of it. `inject(kind)` does one fault now
 * and resolves to what it hit: `{ kind, connections, downMs? }`.
 */
export async function faultRig() {
  let server = await serverProcess(0);
  const { port } = server;
  const { faultProxy } = await loadTs('spec/helpers/fault-proxy.ts');
  const proxy = await faultProxy(port);
  const restart = async (how) => {
    const connections = proxy.active;
    const started = performance.now();
    await (how === 'kill' ? server.kill() : server.stop());
    // The port is free at once (listening sockets reuse the address); retried in case it is not.
    for (let attempt = 1; ; attempt++) {
      try {
        server = await serverProcess(port);
        break;
      } catch (error) {
        if (attempt === 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
    return { connections, downMs: Math.round(performance.now() - started) };
  };
  return {
    url: proxy.url,
    /** Connections accepted by the proxy so far (attempts included). */
    get connections() {
      return proxy.connections;
    },
    async inject(kind) {
      switch (kind) {
        case 'reset':
          return { kind, connections: proxy.reset() };
        case 'stall':
          return { kind, connections: proxy.stall() };
        case 'server-kill':
          return { kind, ...(await restart('kill')) };
        case 'server-restart':
          return { kind, ...(await restart('stop')) };
        default:
          throw new RangeError(`unknown fault ${kind}; the kinds are ${FAULT_KINDS.join(', ')}`);
      }
    },
    async close() {
      await proxy.close();
      await server.stop();
    },
  };
}
