/**
 * A bare `--realtime` means 1x; `--realtime 10` and `--realtime=10` give a factor. A number
 * after it is its value even when it is not a valid factor (`--realtime -1`), so that the
 * error names `--realtime`, not an unknown option "-1".
 */
export function normaliseRealtimeFlag(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--realtime') {
      const next = args[i + 1];
      if (next !== undefined && /^[-+]?(\d+\.?\d*|\.\d+)$/.test(next)) {
        out.push(`--realtime=${next}`);
        i++;
      } else out.push('--realtime=1');
    } else out.push(arg);
  }
  return out;
}

/** A flag's positive number (whole if `integer`), or a one-line error naming the flag. */
export function positiveNumber(name: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} takes a positive ${integer ? 'whole ' : ''}number, got "${text}"`);
  }
  return value;
}

/** A port or similar: a whole number, 0 allowed. */
export function nonNegativeInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} takes a whole number, got "${text}"`);
  return value;
}
