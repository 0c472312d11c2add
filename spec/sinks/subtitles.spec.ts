import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatSrt,
  formatSrtCue,
  formatVtt,
  formatVttCue,
  type SubtitleCue,
  type SubtitleOptions,
  subtitleCues,
  VTT_HEADER,
} from '../../src/sinks/subtitles.js';
import type { TranscriptEvent, TranscriptWord } from '../../src/transcript-event.js';

/** A cue read back from a subtitle file. */
interface ParsedCue {
  readonly index?: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly lines: string[];
}

function timeToMs(h: string, m: string, s: string, ms: string): number {
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000 + Number(ms);
}

/** Reads the timing line of a cue (`,` before the milliseconds in SRT, `.` in WebVTT). */
function parseTiming(line: string | undefined, separator: ',' | '.', where: string): [number, number] {
  const stamp = `(\\d{2,}):([0-5]\\d):([0-5]\\d)\\${separator}(\\d{3})`;
  const match = new RegExp(`^${stamp} --> ${stamp}$`).exec(line ?? '');
  if (match === null) throw new Error(`${where}: bad timing line ${JSON.stringify(line)}`);
  const [, h1, m1, s1, ms1, h2, m2, s2, ms2] = match as unknown as string[];
  const startMs = timeToMs(h1!, m1!, s1!, ms1!);
  const endMs = timeToMs(h2!, m2!, s2!, ms2!);
  if (startMs > endMs) throw new Error(`${where}: starts after it ends (${line})`);
  return [startMs, endMs];
}

function checkLines(lines: string[], maxLines: number, where: string): void {
  if (lines.length < 1 || lines.length > maxLines) {
    throw new Error(`${where}: ${lines.length} text lines, expected 1 to ${maxLines}`);
  }
  for (const line of lines) {
    if (line.trim() === '' || line !== line.trim())
      throw new Error(`${where}: bad text line ${JSON.stringify(line)}`);
    if (line.includes('-->')) throw new Error(`${where}: text line holds "-->"`);
  }
}

function checkOrder(cues: ParsedCue[]): void {
  for (let i = 1; i < cues.length; i++) {
    if (cues[i]!.startMs < cues[i - 1]!.startMs) throw new Error(`cue ${i + 1} starts before cue ${i}`);
  }
}

/**
 * Validates a SubRip file: blocks of an index counting from 1, a timing line
 * `HH:MM:SS,mmm --> HH:MM:SS,mmm` (start <= end), 1 to `maxLines` text lines
 * and a blank line. Returns its cues; throws on anything else.
 */
function parseSrt(file: string, maxLines = 2): ParsedCue[] {
  if (file === '') return [];
  if (!file.endsWith('\n\n') || file.endsWith('\n\n\n'))
    throw new Error('an SRT file ends with one blank line');
  const cues = file
    .slice(0, -2)
    .split('\n\n')
    .map((block, i): ParsedCue => {
      const where = `SRT cue ${i + 1}`;
      const [index, timing, ...lines] = block.split('\n');
      if (index !== String(i + 1)) throw new Error(`${where}: index ${JSON.stringify(index)}`);
      const [startMs, endMs] = parseTiming(timing, ',', where);
      checkLines(lines, maxLines, where);
      return { index: i + 1, startMs, endMs, lines };
    });
  checkOrder(cues);
  return cues;
}

/** Validates a WebVTT file: the `WEBVTT` header and a blank line, then cues of a timing line and text lines. */
function parseVtt(file: string, maxLines = 2): ParsedCue[] {
  if (!file.startsWith('WEBVTT\n\n')) throw new Error('a WebVTT file starts with "WEBVTT" and a blank line');
  const body = file.slice('WEBVTT\n\n'.length);
  if (body === '') return [];
  if (!body.endsWith('\n\n') || body.endsWith('\n\n\n'))
    throw new Error('each WebVTT cue ends with a blank line');
  const cues = body
    .slice(0, -2)
    .split('\n\n')
    .map((block, i): ParsedCue => {
      const where = `WebVTT cue ${i + 1}`;
      const [timing, ...lines] = block.split('\n');
      const [startMs, endMs] = parseTiming(timing, '.', where);
      checkLines(lines, maxLines, where);
      return { startMs, endMs, lines };
    });
  checkOrder(cues);
  return cues;
}

function word(text: string, startMs: number, endMs: number): TranscriptWord {
  return { text, startMs, endMs, confidence: 1 };
}

/** A final over `words`, its text their texts joined, its span theirs. */
function finalOf(words: TranscriptWord[]): TranscriptEvent {
  return {
    type: 'final',
    text: words.map((w) => w.text).join(' '),
    startMs: words[0]?.startMs ?? 0,
    endMs: words.at(-1)?.endMs ?? 0,
    words,
  };
}

function partial(text: string, startMs = 0, endMs = 0): TranscriptEvent {
  return { type: 'partial', text, startMs, endMs, words: [] };
}

/** Words of `seconds` one-second words, `w0` to `wN`, back to back. */
function secondWords(count: number): TranscriptWord[] {
  return Array.from({ length: count }, (_, i) => word(`w${i}`, i * 1000, (i + 1) * 1000));
}

const cueWords = (cue: SubtitleCue): string[] => cue.text.split(/\s+/);

/** Fewest lines of at most `width` characters that hold `words` (greedy filling is optimal). */
function linesNeeded(words: readonly string[], width: number): number {
  let lines = 0;
  let length = -1;
  for (const w of words) {
    if (length >= 0 && length + 1 + w.length <= width) length += 1 + w.length;
    else {
      lines++;
      length = w.length;
    }
  }
  return lines;
}

describe('subtitle timestamps', () => {
  it('writes SRT times as HH:MM:SS,mmm and the cue as index, timing, text and a blank line', () => {
    expect(formatSrtCue(3, { startMs: 62_345, endMs: 64_000, text: 'hello\nworld' })).toBe(
      '3\n00:01:02,345 --> 00:01:04,000\nhello\nworld\n\n',
    );
  });

  it('writes WebVTT times as HH:MM:SS.mmm, with no index', () => {
    expect(formatVttCue({ startMs: 62_345, endMs: 64_000, text: 'hello\nworld' })).toBe(
      '00:01:02.345 --> 00:01:04.000\nhello\nworld\n\n',
    );
  });

  it('counts hours past the first one and past ten', () => {
    const cue = { startMs: 3_723_004, endMs: 36_000_000 + 59 * 60_000 + 59_999, text: 'late' };
    expect(formatSrtCue(1, cue)).toBe('1\n01:02:03,004 --> 10:59:59,999\nlate\n\n');
    expect(formatVttCue(cue)).toBe('01:02:03.004 --> 10:59:59.999\nlate\n\n');
  });

  it('rounds fractional milliseconds before splitting them into fields, carrying into seconds and minutes', () => {
    expect(formatSrtCue(1, { startMs: 1_499.5, endMs: 59_999.6, text: 'x' })).toBe(
      '1\n00:00:01,500 --> 00:01:00,000\nx\n\n',
    );
    expect(formatVttCue({ startMs: 3_599_999.5, endMs: 3_600_000.4, text: 'x' })).toBe(
      '01:00:00.000 --> 01:00:00.000\nx\n\n',
    );
  });

  it('never writes a negative time', () => {
    expect(formatVttCue({ startMs: -20, endMs: 5, text: 'x' })).toBe('00:00:00.000 --> 00:00:00.005\nx\n\n');
  });
});

describe('the subtitle validators of this spec', () => {
  const good = '1\n00:00:00,000 --> 00:00:01,000\na\n\n2\n00:00:01,000 --> 00:00:02,000\nb\nc\n\n';

  it('read a well-formed SRT file', () => {
    expect(parseSrt(good)).toEqual([
      { index: 1, startMs: 0, endMs: 1000, lines: ['a'] },
      { index: 2, startMs: 1000, endMs: 2000, lines: ['b', 'c'] },
    ]);
  });

  it.each([
    ['an index that does not count from 1', good.replace('1\n00', '0\n00')],
    ['a skipped index', good.replace('2\n00', '3\n00')],
    ['a WebVTT timing line', good.replace('00:00:00,000', '00:00:00.000')],
    ['a start after the end', good.replace('00:00:00,000 --> 00:00:01,000', '00:00:01,001 --> 00:00:01,000')],
    ['three text lines', good.replace('b\nc', 'b\nc\nd')],
    ['a cue without text', good.replace('\na\n', '\n')],
    ['no blank line at the end', good.slice(0, -1)],
    ['minutes over 59', good.replace('00:00:01,000 --> 00:00:02,000', '00:60:01,000 --> 01:00:02,000')],
  ])('reject an SRT file with %s', (_, file) => {
    expect(() => parseSrt(file)).toThrow();
  });

  it.each([
    ['no header', '00:00:00.000 --> 00:00:01.000\na\n\n'],
    ['an SRT timing line', 'WEBVTT\n\n00:00:00,000 --> 00:00:01,000\na\n\n'],
    ['a start after the end', 'WEBVTT\n\n00:00:02.000 --> 00:00:01.000\na\n\n'],
    ['a cue without text', 'WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n\n'],
  ])('reject a WebVTT file with %s', (_, file) => {
    expect(() => parseVtt(file)).toThrow();
  });
});

describe('subtitleCues', () => {
  it('takes cue times from the word times, not from the span of the final', () => {
    const event: TranscriptEvent = {
      type: 'final',
      text: 'good morning',
      startMs: 0,
      endMs: 10_000,
      words: [word('good', 1200, 1500), word('morning', 1600, 2400)],
    };
    expect(subtitleCues(event)).toEqual([{ startMs: 1200, endMs: 2400, text: 'good morning' }]);
  });

  it('starts a new line, then a new cue, where the next word would pass the line length', () => {
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'].map((text, i) =>
      word(text, i * 500, i * 500 + 400),
    );
    const event = finalOf(words);
    expect(subtitleCues(event, { maxLineLength: 10, maxLines: 1 })).toEqual([
      { startMs: 0, endMs: 900, text: 'alpha beta' },
      { startMs: 1000, endMs: 1400, text: 'gamma' },
      { startMs: 1500, endMs: 1900, text: 'delta' },
      { startMs: 2000, endMs: 2400, text: 'epsilon' },
    ]);
    expect(subtitleCues(event, { maxLineLength: 10, maxLines: 2 })).toEqual([
      { startMs: 0, endMs: 1400, text: 'alpha beta\ngamma' },
      { startMs: 1500, endMs: 2400, text: 'delta\nepsilon' },
    ]);
  });

  it('cuts a cue where the next word would end more than maxCueMs after its start (the limit itself allowed)', () => {
    const cues = subtitleCues(finalOf(secondWords(10)), { maxCueMs: 3000 });
    expect(cues).toEqual([
      { startMs: 0, endMs: 3000, text: 'w0 w1 w2' },
      { startMs: 3000, endMs: 6000, text: 'w3 w4 w5' },
      { startMs: 6000, endMs: 9000, text: 'w6 w7 w8' },
      { startMs: 9000, endMs: 10_000, text: 'w9' },
    ]);
  });

  it('defaults to 7 s cues', () => {
    const cues = subtitleCues(finalOf(secondWords(8)));
    expect(cues.map(cueWords)).toEqual([['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6'], ['w7']]);
    expect(cues.map((c) => [c.startMs, c.endMs])).toEqual([
      [0, 7000],
      [7000, 8000],
    ]);
  });

  it('defaults to two lines of 42 characters', () => {
    const a = 'a'.repeat(20);
    const b = 'b'.repeat(21); // a + ' ' + b is exactly 42 characters
    const words = [a, b, a, b, a, b].map((text, i) => word(text, i * 100, i * 100 + 90));
    expect(subtitleCues(finalOf(words)).map((c) => c.text)).toEqual([`${a} ${b}\n${a} ${b}`, `${a} ${b}`]);
  });

  it('gives a word longer than a line a line of its own, uncut', () => {
    const words = [word('an', 0, 100), word('extraordinary', 100, 900), word('day', 900, 1200)];
    expect(subtitleCues(finalOf(words), { maxLineLength: 5, maxLines: 1 }).map((c) => c.text)).toEqual([
      'an',
      'extraordinary',
      'day',
    ]);
  });

  it('makes a final without words one cue over its span, its text wrapped to the line length', () => {
    const text = Array.from({ length: 12 }, (_, i) => `word${i}`).join(' ');
    const cues = subtitleCues({ type: 'final', text, startMs: 1500, endMs: 4200, words: [] });
    expect(cues).toHaveLength(1);
    expect(cues[0]!.startMs).toBe(1500);
    expect(cues[0]!.endMs).toBe(4200);
    const lines = cues[0]!.text.split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(42);
    expect(lines.join(' ')).toBe(text);
  });

  it('collapses runs of spaces in the text of a final without words', () => {
    const cues = subtitleCues({ type: 'final', text: 'hello   world', startMs: 0, endMs: 800, words: [] });
    expect(cues).toEqual([{ startMs: 0, endMs: 800, text: 'hello world' }]);
  });

  it('splits a long final without words into cues within the limits, sharing its span by word length', () => {
    const text = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const cues = subtitleCues({ type: 'final', text, startMs: 1000, endMs: 21000, words: [] });
    expect(cues.length).toBeGreaterThan(1);
    expect(cues[0]!.startMs).toBe(1000);
    expect(cues.at(-1)!.endMs).toBe(21000);
    for (const [i, cue] of cues.entries()) {
      expect(cue.text.split('\n').length).toBeLessThanOrEqual(2);
      expect(cue.endMs - cue.startMs).toBeLessThanOrEqual(7000);
      if (i > 0) expect(cue.startMs).toBe(cues[i - 1]!.endMs);
    }
    expect(cues.map((c) => c.text.replace(/\n/g, ' ')).join(' ')).toBe(text);
  });

  it('gives no cue for a final whose text is only spaces', () => {
    expect(subtitleCues({ type: 'final', text: '  ', startMs: 0, endMs: 500, words: [] })).toEqual([]);
  });

  it('gives no cue for a final with empty text', () => {
    const empty: TranscriptEvent = { type: 'final', text: '', startMs: 1000, endMs: 2000, words: [] };
    expect(subtitleCues(empty)).toEqual([]);
    expect(formatSrt([empty])).toBe('');
    expect(formatVtt([empty])).toBe(VTT_HEADER);
  });
});

describe('formatSrt and formatVtt', () => {
  const first = finalOf([word('one', 0, 400), word('two', 400, 900)]);
  const second = finalOf([word('three', 1500, 2000)]);

  it('start a WebVTT file with its header, and give empty input an empty SRT file', () => {
    expect(VTT_HEADER).toBe('WEBVTT\n\n');
    expect(formatVtt([])).toBe('WEBVTT\n\n');
    expect(formatSrt([])).toBe('');
  });

  it('ignore partials', () => {
    const events = [partial('on', 0, 300), first, partial('thr', 1500, 1700), partial('three'), second];
    expect(formatSrt(events)).toBe(formatSrt([first, second]));
    expect(formatVtt(events)).toBe(formatVtt([first, second]));
    expect(formatSrt([partial('only a partial', 0, 500)])).toBe('');
    expect(formatVtt([partial('only a partial', 0, 500)])).toBe(VTT_HEADER);
  });

  it('number SRT cues from 1 across all the finals', () => {
    const long = finalOf(
      secondWords(9).map((w) => ({ ...w, startMs: w.startMs + 3000, endMs: w.endMs + 3000 })),
    );
    const file = formatSrt([first, second, long], { maxCueMs: 4000 });
    expect(file).toBe(
      [
        '1\n00:00:00,000 --> 00:00:00,900\none two\n\n',
        '2\n00:00:01,500 --> 00:00:02,000\nthree\n\n',
        '3\n00:00:03,000 --> 00:00:07,000\nw0 w1 w2 w3\n\n',
        '4\n00:00:07,000 --> 00:00:11,000\nw4 w5 w6 w7\n\n',
        '5\n00:00:11,000 --> 00:00:12,000\nw8\n\n',
      ].join(''),
    );
    expect(parseSrt(file).map((c) => c.index)).toEqual([1, 2, 3, 4, 5]);
  });

  it('write the same cues in both formats', () => {
    const srt = parseSrt(formatSrt([first, second]));
    const vtt = parseVtt(formatVtt([first, second]));
    expect(vtt).toEqual(srt.map(({ startMs, endMs, lines }) => ({ startMs, endMs, lines })));
    expect(vtt).toEqual([
      { startMs: 0, endMs: 900, lines: ['one two'] },
      { startMs: 1500, endMs: 2000, lines: ['three'] },
    ]);
  });
});

describe('subtitles of random finals (fast-check)', () => {
  const letters = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz');
  const wordText = fc.string({ unit: letters, minLength: 1, maxLength: 15 });
  /** Words of 1-15 letters, each lasting at most 900 ms, with increasing, non-overlapping times from `fromMs`. */
  const timedWords = (minLength: number) =>
    fc
      .array(
        fc.record({
          text: wordText,
          gapMs: fc.integer({ min: 0, max: 1500 }),
          durationMs: fc.integer({ min: 0, max: 900 }),
        }),
        { minLength, maxLength: 60 },
      )
      .map((list) => {
        let t = 0;
        return list.map(({ text, gapMs, durationMs }) => {
          const startMs = t + gapMs;
          t = startMs + durationMs;
          return word(text, startMs, t);
        });
      });
  /** Limits that every generated word fits: lines of at least 15 characters, cues of at least 1 s. */
  const options: fc.Arbitrary<SubtitleOptions> = fc.record(
    {
      maxLineLength: fc.integer({ min: 15, max: 60 }),
      maxLines: fc.integer({ min: 1, max: 3 }),
      maxCueMs: fc.integer({ min: 1000, max: 10_000 }),
    },
    { requiredKeys: [] },
  );
  const limits = (o: SubtitleOptions) => ({
    width: o.maxLineLength ?? 42,
    lines: o.maxLines ?? 2,
    ms: o.maxCueMs ?? 7000,
  });

  it('cut a final into cues within the limits that hold every word once, in order, timed by the words', () => {
    fc.assert(
      fc.property(timedWords(1), options, (words, opts) => {
        const max = limits(opts);
        const cues = subtitleCues(finalOf(words), opts);
        expect(cues.flatMap(cueWords)).toEqual(words.map((w) => w.text));
        let next = 0;
        for (const [i, cue] of cues.entries()) {
          const lines = cue.text.split('\n');
          expect(lines.length).toBeGreaterThanOrEqual(1);
          expect(lines.length).toBeLessThanOrEqual(max.lines);
          for (const line of lines) {
            expect(line.length).toBeLessThanOrEqual(max.width);
            expect(line).toMatch(/^[a-z]+( [a-z]+)*$/);
          }
          const own = words.slice(next, next + cueWords(cue).length);
          next += own.length;
          expect(cue.startMs).toBe(own[0]!.startMs);
          expect(cue.endMs).toBe(own.at(-1)!.endMs);
          expect(cue.endMs - cue.startMs).toBeLessThanOrEqual(max.ms);
          const following = words[next];
          if (i > 0) expect(cue.startMs).toBeGreaterThanOrEqual(cues[i - 1]!.endMs);
          // Not cut earlier than needed: the next word would have broken a limit.
          if (following !== undefined) {
            const lineCount = linesNeeded([...cueWords(cue), following.text], max.width);
            expect(lineCount > max.lines || following.endMs - cue.startMs > max.ms).toBe(true);
          }
        }
        expect(next).toBe(words.length);
      }),
      { numRuns: 300 },
    );
  });

  it('give valid SRT and WebVTT files of those cues, numbered across finals, partials left out', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(timedWords(0), fc.option(wordText)), { minLength: 0, maxLength: 5 }),
        options,
        (lists, opts) => {
          const events: TranscriptEvent[] = [];
          const cues: SubtitleCue[] = [];
          let offset = 0;
          for (const [list, partialText] of lists) {
            if (partialText !== null) events.push(partial(partialText, offset, offset + 100));
            const shifted = list.map((w) => ({ ...w, startMs: w.startMs + offset, endMs: w.endMs + offset }));
            const event = shifted.length > 0 ? finalOf(shifted) : finalOf([]);
            events.push(event);
            cues.push(...subtitleCues(event, opts));
            offset = (shifted.at(-1)?.endMs ?? offset) + 1;
          }
          const max = limits(opts);
          const expected = cues.map((c) => ({
            startMs: c.startMs,
            endMs: c.endMs,
            lines: c.text.split('\n'),
          }));
          const srt = parseSrt(formatSrt(events, opts), max.lines);
          expect(srt).toEqual(expected.map((c, i) => ({ index: i + 1, ...c })));
          expect(parseVtt(formatVtt(events, opts), max.lines)).toEqual(expected);
          const allWords = lists.flatMap(([list]) => list.map((w) => w.text));
          expect(srt.flatMap((c) => c.lines.join(' ').split(' ')).filter((w) => w !== '')).toEqual(allWords);
        },
      ),
      { numRuns: 200 },
    );
  });
});
