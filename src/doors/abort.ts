/** Why `signal` aborted: its reason, or an `AbortError` where the platform gives none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Calls `onAbort` once when `signal` aborts (at once if it has); returns the
 * remover, so that a finished door leaves no listener on a long-lived signal.
 */
export function onAbort(signal: AbortSignal | undefined, onAbort: (reason: unknown) => void): () => void {
  if (signal === undefined) return () => {};
  if (signal.aborted) {
    onAbort(abortReason(signal));
    return () => {};
  }
  const listener = (): void => onAbort(abortReason(signal));
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}
