/** Counts of the live handles of this process by kind (sockets, servers, timers, child processes). */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** Waits until `check` passes or `timeoutMs` runs out (then throws its last error). */
export async function eventually(check: () => void, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Resources that must be back to where they were: sockets, servers, child processes. */
export const LEAKABLE = ['TCPSocketWrap', 'TCPServerWrap', 'ProcessWrap', 'PipeWrap'] as const;

export function leakable(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(LEAKABLE.map((name) => [name, counts[name] ?? 0]));
}

/** The JS heap in use after full collections (vitest.config.ts runs the tests with --expose-gc). */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (vitest.config.ts sets it)');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
