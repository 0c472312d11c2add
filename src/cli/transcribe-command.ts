import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type Observable, tap } from 'rxjs';
import type { AudioChunk, AudioFormat, SampleEncoding } from '../audio/audio-format.js';
import { frameCount, framesToMs } from '../audio/audio-format.js';
import { parseWavHeader } from '../audio/wav-header.js';
import { isTranscriptionError } from '../errors/transcription-error.js';
import { paced } from '../operators/paced.js';
import { transcribe } from '../operators/transcribe.js';
import { vosk } from '../protocols/vosk.js';
import { type EngineName, type RunningServer, startServer } from '../server/start-server.js';
import { formatSrtCue, formatVttCue, subtitleCues, VTT_HEADER } from '../sinks/subtitles.js';
import { wavOrRaw } from '../sources/byte-source.js';
import { fromFile } from '../sources/from-file.js';
import { fromReadable } from '../sources/from-readable.js';
import type { TranscriptEvent } from '../transcript-event.js';
import { normaliseRealtimeFlag, positiveNumber } from './args.js';
import { LiveLine } from './live-line.js';

export const TRANSCRIBE_USAGE = `usage: rxjs-transcribe FILE [--url ws://HOST:PORT] [--format text|json|srt|vtt] [--realtime [FACTOR]]

Transcribes FILE (a WAV file, raw PCM with --rate, or - for stdin) and writes the transcript on stdout.
  --url URL          a Vosk-protocol server; without it the reference server runs in-process
  --engine NAME      engine of the in-process server: pocketsphinx (default) or synthetic
  --format F         text (default), json (one TranscriptEvent per line), srt or vtt subtitles
  --realtime [X]     send the audio as if it were live (at X times real time, default 1)
  --rate N           raw PCM: sample rate (default 16000 for stdin)
  --channels N       raw PCM: channels (default 1)
  --encoding E       raw PCM: s16le (default) or f32le
  --frame-ms N       duration of the audio frames sent (default 100)`;

type OutputFormat = 'text' | 'json' | 'srt' | 'vtt';

/** Duration of a WAV file from its header and size, for the progress bar (undefined if unknown). */
function wavDurationMs(path: string): number | undefined {
  try {
    const fd = openSync(path, 'r');
    const head = new Uint8Array(64 * 1024);
    const read = readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
    const parsed = parseWavHeader(head.subarray(0, read));
    if (parsed.status !== 'ok') return undefined;
    const bytes = Math.min(
      statSync(path).size - parsed.dataOffset,
      parsed.dataLength || Number.POSITIVE_INFINITY,
    );
    return (bytes / parsed.format.blockAlign / parsed.format.sampleRate) * 1000;
  } catch {
    return undefined;
  }
}

/** Writes events in the chosen format, as they land. */
class TranscriptWriter {
  private cueIndex = 0;

  private headerWritten = false;

  constructor(
    private readonly format: OutputFormat,
    private readonly live: LiveLine,
    private readonly out: NodeJS.WriteStream,
  ) {}

  /** The VTT header goes out with the first cue (or at the end), so a failed run writes nothing. */
  private header(): string {
    if (this.format !== 'vtt' || this.headerWritten) return '';
    this.headerWritten = true;
    return VTT_HEADER;
  }

  /** At the end of a successful run. */
  end(): void {
    const header = this.header();
    if (header !== '') this.out.write(header);
  }

  write(event: TranscriptEvent): void {
    switch (this.format) {
      case 'json':
        this.live.above(() => this.out.write(`${JSON.stringify(event)}\n`));
        return;
      case 'text':
        if (event.type === 'partial') this.live.setCaption(event.text);
        else {
          this.live.setCaption('');
          this.live.above(() => this.out.write(`${event.text}\n`));
        }
        return;
      default:
        if (event.type !== 'final') return;
        for (const cue of subtitleCues(event)) {
          const text =
            this.format === 'srt' ? formatSrtCue(++this.cueIndex, cue) : this.header() + formatVttCue(cue);
          this.live.above(() => this.out.write(text));
        }
    }
  }
}

/** `rxjs-transcribe FILE ...`: resolves to the exit status. */
export async function transcribeCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: normaliseRealtimeFlag(argv),
    options: {
      url: { type: 'string' },
      engine: { type: 'string' },
      format: { type: 'string' },
      realtime: { type: 'string' },
      rate: { type: 'string' },
      channels: { type: 'string' },
      encoding: { type: 'string' },
      'frame-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${TRANSCRIBE_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new Error(`give exactly one FILE (or - for stdin)\n${TRANSCRIBE_USAGE}`);
  const file = positionals[0]!;
  const format = (values.format ?? 'text') as OutputFormat;
  if (!['text', 'json', 'srt', 'vtt'].includes(format)) {
    throw new Error(`--format takes text, json, srt or vtt, got "${values.format}"`);
  }
  const engine = values.engine ?? 'pocketsphinx';
  if (engine !== 'pocketsphinx' && engine !== 'synthetic') {
    throw new Error(`--engine takes pocketsphinx or synthetic, got "${engine}"`);
  }
  if (values.url !== undefined && values.engine !== undefined) {
    throw new Error('--engine chooses the in-process server; it does not go with --url');
  }
  const encoding = values.encoding ?? 's16le';
  if (encoding !== 's16le' && encoding !== 'f32le') {
    throw new Error(`--encoding takes s16le or f32le, got "${encoding}"`);
  }
  const raw: AudioFormat | undefined =
    values.rate !== undefined ||
    values.channels !== undefined ||
    values.encoding !== undefined ||
    file === '-'
      ? {
          sampleRate: positiveNumber('rate', values.rate, true) ?? 16000,
          channels: positiveNumber('channels', values.channels, true) ?? 1,
          encoding: `pcm_${encoding}` as SampleEncoding,
        }
      : undefined;
  const realtime = positiveNumber('realtime', values.realtime, false);
  const frameMs = positiveNumber('frame-ms', values['frame-ms'], false);

  const live = new LiveLine(process.stderr, process.stdout, format === 'text');
  const totalMs = file !== '-' && raw === undefined ? wavDurationMs(file) : undefined;
  let readMs = 0;
  let audio: Observable<AudioChunk> =
    file === '-' ? fromReadable(process.stdin, wavOrRaw(raw!)) : fromFile(file, raw ? { format: raw } : {});
  if (realtime !== undefined) audio = audio.pipe(paced({ factor: realtime }));
  // The position shown is what has gone into the pipeline (after pacing).
  audio = audio.pipe(
    tap((chunk) => {
      readMs += framesToMs(frameCount(chunk), chunk.format.sampleRate);
      live.setProgress(readMs, totalMs);
    }),
  );

  let server: RunningServer | undefined;
  try {
    if (values.url === undefined) {
      server = await startServer({ port: 0, engine: engine as EngineName });
    }
    const url = values.url ?? server!.url;
    const writer = new TranscriptWriter(format, live, process.stdout);
    await new Promise<void>((resolve, reject) => {
      const subscription = audio
        .pipe(transcribe({ url, protocol: vosk(), ...(frameMs !== undefined ? { frameMs } : {}) }))
        .subscribe({ next: (event) => writer.write(event), error: reject, complete: resolve });
      const interrupt = (): void => {
        subscription.unsubscribe();
        reject(new Error('interrupted'));
      };
      // A reader that went away (| head) is not an error: stop, quietly. The
      // listener stays to the end of the process: the last write can fail after completion.
      const onStdoutError = (error: NodeJS.ErrnoException): void => {
        subscription.unsubscribe();
        if (error.code === 'EPIPE') resolve();
        else reject(error);
      };
      process.once('SIGINT', interrupt);
      process.stdout.on('error', onStdoutError);
      subscription.add(() => process.off('SIGINT', interrupt));
    });
    writer.end();
    return 0;
  } catch (error) {
    if (
      isTranscriptionError(error) &&
      error.kind === 'bad-audio' &&
      / is not a WAV file /.test(error.message)
    ) {
      throw new Error(`${error.message}; for raw PCM give --rate (and --channels, --encoding)`);
    }
    throw error;
  } finally {
    live.clear();
    await server?.close();
  }
}
