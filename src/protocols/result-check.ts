import type { ProtocolResult } from './protocol.js';

/** Why a decoded result cannot be taken as it is, or undefined when it can. */
export function resultProblem(result: ProtocolResult): string | undefined {
  if (result.type !== 'partial' && result.type !== 'final') return `a result of type ${String(result.type)}`;
  if (typeof result.text !== 'string') return 'a result without text';
  if (!Array.isArray(result.words)) return 'a result without a word list';
  let previousStart = 0;
  for (let i = 0; i < result.words.length; i++) {
    const word = result.words[i]!;
    const problem = timeProblem(word.startMs, word.endMs, `word ${i + 1}`);
    if (problem !== undefined) return problem;
    if (typeof word.text !== 'string') return `word ${i + 1} without text`;
    if (word.startMs < previousStart) return `word ${i + 1} starts before the word before it`;
    previousStart = word.startMs;
    const c = word.confidence;
    if (c !== undefined && !(typeof c === 'number' && c >= 0 && c <= 1)) {
      return `word ${i + 1} has a confidence of ${c}, not in [0, 1]`;
    }
  }
  if (result.startMs !== undefined || result.endMs !== undefined) {
    const problem = timeProblem(result.startMs, result.endMs, 'the result');
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function timeProblem(startMs: unknown, endMs: unknown, what: string): string | undefined {
  if (
    typeof startMs !== 'number' ||
    !Number.isFinite(startMs) ||
    typeof endMs !== 'number' ||
    !Number.isFinite(endMs)
  ) {
    return `${what} has times that are not finite numbers (${startMs} to ${endMs} ms)`;
  }
  if (startMs < 0) return `${what} starts at a negative time (${startMs} ms)`;
  if (startMs > endMs) return `${what} starts after it ends (${startMs} to ${endMs} ms)`;
  return undefined;
}
