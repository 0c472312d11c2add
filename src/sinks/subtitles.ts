import type { TranscriptEvent, TranscriptWord } from '../transcript-event.js';

/** Options for cutting finals into subtitle cues (common broadcast limits by default). */
export interface SubtitleOptions {
  /** Characters per line. Default 42. */
  readonly maxLineLength?: number;
  /** Lines per cue. Default 2. */
  readonly maxLines?: number;
  /** Longest cue in ms. Default 7,000. */
  readonly maxCueMs?: number;
}

/** One subtitle: text (lines joined by \n) shown from startMs to endMs. */
export interface SubtitleCue {
  readonly startMs: number;
  readonly endMs: number;
  readonly text: string;
}

/** Wraps words into lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(words: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Words of a final that has no word times, timed in proportion to their length across its span. */
function spreadWords(event: TranscriptEvent): TranscriptWord[] {
  const texts = event.text.split(/\s+/).filter(Boolean);
  const letters = texts.reduce((sum, w) => sum + w.length, 0);
  const span = Math.max(0, event.endMs - event.startMs);
  let at = event.startMs;
  return texts.map((text) => {
    const startMs = at;
    at += (span * text.length) / letters;
    return { text, startMs: Math.round(startMs), endMs: Math.round(at) };
  });
}

/**
 * Cuts a final result into cues that fit the limits, using the word times
 * (a final without them has its span shared among its words by length).
 */
export function subtitleCues(event: TranscriptEvent, options: SubtitleOptions = {}): SubtitleCue[] {
  const width = options.maxLineLength ?? 42;
  const maxLines = options.maxLines ?? 2;
  const maxMs = options.maxCueMs ?? 7000;
  const words = event.words.length > 0 ? event.words : spreadWords(event);
  if (words.length === 0) return [];
  const cues: SubtitleCue[] = [];
  let group: TranscriptWord[] = [];
  const flush = (): void => {
    if (group.length === 0) return;
    cues.push({
      startMs: group[0]!.startMs,
      endMs: group.at(-1)!.endMs,
      text: wrap(
        group.map((w) => w.text),
        width,
      ).join('\n'),
    });
    group = [];
  };
  for (const word of words) {
    const candidate = [...group, word];
    const fits =
      wrap(
        candidate.map((w) => w.text),
        width,
      ).length <= maxLines && word.endMs - (group[0]?.startMs ?? word.startMs) <= maxMs;
    if (!fits) flush();
    group.push(word);
  }
  flush();
  return cues;
}

function timestamp(ms: number, separator: ',' | '.'): string {
  const total = Math.max(0, Math.round(ms));
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.floor((total % 60_000) / 1000);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(total % 1000, 3)}`;
}

/** One SubRip cue, numbered from 1. */
export function formatSrtCue(index: number, cue: SubtitleCue): string {
  return `${index}\n${timestamp(cue.startMs, ',')} --> ${timestamp(cue.endMs, ',')}\n${cue.text}\n\n`;
}

/** The header every WebVTT file starts with. */
export const VTT_HEADER = 'WEBVTT\n\n';

/** One WebVTT cue. */
export function formatVttCue(cue: SubtitleCue): string {
  return `${timestamp(cue.startMs, '.')} --> ${timestamp(cue.endMs, '.')}\n${cue.text}\n\n`;
}

/** A SubRip (.srt) file of the finals among `events`. */
export function formatSrt(events: Iterable<TranscriptEvent>, options: SubtitleOptions = {}): string {
  let out = '';
  let index = 0;
  for (const event of events) {
    if (event.type !== 'final') continue;
    for (const cue of subtitleCues(event, options)) out += formatSrtCue(++index, cue);
  }
  return out;
}

/** A WebVTT (.vtt) file of the finals among `events`. */
export function formatVtt(events: Iterable<TranscriptEvent>, options: SubtitleOptions = {}): string {
  let out = VTT_HEADER;
  for (const event of events) {
    if (event.type !== 'final') continue;
    for (const cue of subtitleCues(event, options)) out += formatVttCue(cue);
  }
  return out;
}
