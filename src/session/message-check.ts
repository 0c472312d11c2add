import type { DecodedMessage } from '../protocols/protocol.js';
import { resultProblem } from '../protocols/result-check.js';
import type { Timeline } from './timeline.js';

/**
 * What makes a decoded message impossible for the session to take, if
 * anything: checked before anything is taken from it, so a bad one changes
 * nothing. `resultsChecked`: the protocol handed back the message it decoded
 * last (a repeated partial), whose results were checked then.
 */
export function decodedProblem(
  decoded: DecodedMessage,
  resultsChecked: boolean,
  timeline: Timeline,
  /** Protocols that reply: audio frames sent and not answered; -1 for protocols without replies. */
  awaitedFrames: number,
  /** End-of-stream messages sent and not answered. */
  awaitedEnds: number,
): string | undefined {
  if (typeof decoded !== 'object' || decoded === null) return 'the decoder gave no message';
  const answers = decoded.answers ?? 0;
  if (!Number.isInteger(answers) || answers < 0) return `a message that answers ${answers} messages`;
  const results = decoded.results;
  if (!Array.isArray(results)) return 'a message without a result list';
  let hasFinal = false;
  for (let i = resultsChecked ? results.length : 0; i < results.length; i++) {
    const result = results[i]!;
    if (typeof result !== 'object' || result === null) return 'a result that is not an object';
    // Partials repeat with every reply (and carry no times in Vosk): only finals and timed results are checked.
    if (
      result.type === 'partial' &&
      Array.isArray(result.words) &&
      result.words.length === 0 &&
      result.endMs === undefined
    ) {
      if (typeof result.text !== 'string') return 'a result without text';
      continue;
    }
    const problem = resultProblem(result) ?? timeline.problem(result);
    if (problem !== undefined) return problem;
    if (result.type === 'final') hasFinal = true;
  }
  const utteranceEnd = decoded.utteranceEndMs;
  if (utteranceEnd !== undefined && !(Number.isFinite(utteranceEnd) && utteranceEnd >= 0)) {
    return `an end of utterance at ${utteranceEnd} ms`;
  }
  if (awaitedFrames < 0) {
    if (answers > 0) return `a reply that answers ${answers} messages from a protocol without replies`;
    return undefined;
  }
  // More replies than messages: a doubled or extra reply, never an answer to audio to come.
  const all = awaitedFrames + awaitedEnds;
  if (answers > all) {
    return `${answers === 1 ? 'a reply' : `${answers} replies`} with ${all === 0 ? 'no message' : `only ${all}`} awaiting one: more replies than it was sent messages`;
  }
  // End-of-stream is answered by the final result, never by a partial (a reply counted twice).
  if (answers > awaitedFrames && !(hasFinal || results.some((r) => r.type === 'final'))) {
    return 'a reply to end-of-stream without a final result: more replies than it was sent messages';
  }
  return undefined;
}
