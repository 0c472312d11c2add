import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { firstValueFrom, type Observable, type Subscription } from 'rxjs';
import type { AudioChunk, AudioFormat, SampleEncoding } from '../audio/audio-format.js';
import { parseWavHeader } from '../audio/wav-header.js';
import { isTranscriptionError } from '../errors/transcription-error.js';
import { prometheusSink } from '../exporters/prometheus.js';
import { paced } from '../operators/paced.js';
import { type TranscribeOperator, transcribe } from '../operators/transcribe.js';
import { assemblyai } from '../protocols/assemblyai.js';
import { deepgram } from '../protocols/deepgram.js';
import { openaiRealtime } from '../protocols/openai-realtime.js';
import { vosk } from '../protocols/vosk.js';
import { type EngineName, type RunningServer, startServer } from '../server/start-server.js';
import type { SessionMetrics } from '../session/session-metrics.js';
import { formatSrtCue, formatVttCue, subtitleCues, VTT_HEADER } from '../sinks/subtitles.js';
import { wavOrRaw } from '../sources/byte-source.js';
import { fromFile } from '../sources/from-file.js';
import { fromReadable } from '../sources/from-readable.js';
import type { TranscriptEvent } from '../transcript-event.js';
import { nonNegativeInteger, normaliseRealtimeFlag, positiveNumber } from './args.js';
import { LiveLine } from './live-line.js';
import { type WordErrorRate, wordErrorRate } from './word-error-rate.js';

export const TRANSCRIBE_USAGE = `usage: rxjs-transcribe FILE [--url ws://HOST:PORT] [--protocol vosk|deepgram|assemblyai|openai] [--format text|json|srt|vtt] [--realtime [FACTOR]]

Transcribes FILE (a WAV file, raw PCM with --rate, or - for stdin) and writes the transcript on stdout.
  --url URL          the server; without it, Vosk: the reference server runs in-process,
                     Deepgram: wss://api.deepgram.com, AssemblyAI: wss://streaming.assemblyai.com,
                     OpenAI: wss://api.openai.com/v1
  --protocol P       vosk (default), deepgram, assemblyai or openai (Realtime transcription; the
                     reference server speaks them at /v1/listen, /v3/ws and /v1/realtime)
  --api-key KEY      Deepgram, AssemblyAI, OpenAI: the API key (default: the DEEPGRAM_API_KEY,
                     ASSEMBLYAI_API_KEY or OPENAI_API_KEY environment variable); never echoed,
                     and better given by the environment than on a command line
  --model NAME       Deepgram: the model (nova-3, ...); AssemblyAI: the speech model;
                     OpenAI: the transcription model (gpt-4o-transcribe, whisper-1, ...)
  --language CODE    Deepgram: the language (en-US, multi, ...); OpenAI: ISO-639-1 (en, ...)
  --engine NAME      engine of the in-process server: pocketsphinx (default) or synthetic
  --format F         text (default), json (one TranscriptEvent per line), srt or vtt subtitles
  --realtime [X]     send the audio as if it were live (at X times real time, default 1)
  --rate N           raw PCM: sample rate (default 16000 for stdin)
  --channels N       raw PCM: channels (default 1)
  --encoding E       raw PCM: s16le (default) or f32le
  --frame-ms N       duration of the audio frames sent (default 100)
  --metrics          a live stats line, and a summary at the end (on stderr)
  --prometheus PORT  serve the client's metrics at http://127.0.0.1:PORT/metrics while it runs
  --reference FILE   print the word error rate of the transcript against the text in FILE`;

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
      protocol: { type: 'string' },
      'api-key': { type: 'string' },
      model: { type: 'string' },
      language: { type: 'string' },
      engine: { type: 'string' },
      format: { type: 'string' },
      realtime: { type: 'string' },
      rate: { type: 'string' },
      channels: { type: 'string' },
      encoding: { type: 'string' },
      'frame-ms': { type: 'string' },
      metrics: { type: 'boolean' },
      prometheus: { type: 'string' },
      reference: { type: 'string' },
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
  const protocolName = values.protocol ?? 'vosk';
  if (
    protocolName !== 'vosk' &&
    protocolName !== 'deepgram' &&
    protocolName !== 'assemblyai' &&
    protocolName !== 'openai'
  ) {
    throw new Error(`--protocol takes vosk, deepgram, assemblyai or openai, got "${protocolName}"`);
  }
  if (protocolName === 'assemblyai' && values.language !== undefined) {
    throw new Error('--language is for --protocol deepgram (AssemblyAI picks the language by --model)');
  }
  const deepgramOnly = ['api-key', 'model', 'language'] as const;
  for (const flag of deepgramOnly) {
    if (protocolName === 'vosk' && values[flag] !== undefined) {
      throw new Error(`--${flag} is for --protocol deepgram${flag === 'language' ? '' : ' or assemblyai'}`);
    }
  }
  if (protocolName !== 'vosk' && values.engine !== undefined) {
    throw new Error(
      `--engine chooses the in-process Vosk server; for ${protocolName} give --url (or none, for the cloud)`,
    );
  }
  const apiKey =
    values['api-key'] ??
    (protocolName === 'deepgram'
      ? process.env.DEEPGRAM_API_KEY
      : protocolName === 'assemblyai'
        ? process.env.ASSEMBLYAI_API_KEY
        : protocolName === 'openai'
          ? process.env.OPENAI_API_KEY
          : undefined);
  if (protocolName === 'assemblyai' && values.url === undefined && (apiKey === undefined || apiKey === '')) {
    throw new Error(
      'AssemblyAI needs an API key: --api-key or ASSEMBLYAI_API_KEY (or --url of an AssemblyAI-protocol server, such as `rxjs-transcribe serve`, whose /v3/ws speaks it)',
    );
  }
  if (protocolName === 'openai' && values.url === undefined && (apiKey === undefined || apiKey === '')) {
    throw new Error(
      'OpenAI needs an API key: --api-key or OPENAI_API_KEY (or --url of an OpenAI-Realtime-protocol server, such as `rxjs-transcribe serve`, whose /v1/realtime speaks it)',
    );
  }
  if (protocolName === 'deepgram' && values.url === undefined && (apiKey === undefined || apiKey === '')) {
    throw new Error(
      'Deepgram needs an API key: --api-key or DEEPGRAM_API_KEY (or --url of a Deepgram-protocol server, such as `rxjs-transcribe serve` at /v1/listen)',
    );
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

  const prometheusPort = nonNegativeInteger('prometheus', values.prometheus);
  const reference = values.reference === undefined ? undefined : readFileSync(values.reference, 'utf8');

  const live = new LiveLine(process.stderr, process.stdout, format === 'text');
  const totalMs = file !== '-' && raw === undefined ? wavDurationMs(file) : undefined;
  let audio: Observable<AudioChunk> =
    file === '-' ? fromReadable(process.stdin, wavOrRaw(raw!)) : fromFile(file, raw ? { format: raw } : {});
  if (realtime !== undefined) audio = audio.pipe(paced({ factor: realtime }));
  let server: RunningServer | undefined;
  let exporter: { close(): Promise<void> } | undefined;
  try {
    if (values.url === undefined && protocolName === 'vosk') {
      server = await startServer({ port: 0, engine: engine as EngineName });
    }
    const writer = new TranscriptWriter(format, live, process.stdout);
    const t = transcribe({
      ...(protocolName === 'vosk'
        ? { url: values.url ?? server!.url, protocol: vosk() }
        : protocolName === 'assemblyai'
          ? {
              protocol: assemblyai({
                ...(apiKey !== undefined && apiKey !== '' ? { apiKey } : {}),
                ...(values.url !== undefined ? { baseUrl: values.url } : {}),
                ...(values.model !== undefined ? { speechModel: values.model } : {}),
              }),
            }
          : protocolName === 'openai'
            ? {
                protocol: openaiRealtime({
                  ...(apiKey !== undefined && apiKey !== '' ? { apiKey } : {}),
                  ...(values.url !== undefined ? { baseUrl: values.url } : {}),
                  ...(values.model !== undefined ? { model: values.model } : {}),
                  ...(values.language !== undefined ? { language: values.language } : {}),
                }),
              }
            : {
                protocol: deepgram({
                  ...(apiKey !== undefined && apiKey !== '' ? { apiKey } : {}),
                  ...(values.url !== undefined ? { baseUrl: values.url } : {}),
                  ...(values.model !== undefined ? { model: values.model } : {}),
                  ...(values.language !== undefined ? { language: values.language } : {}),
                }),
              }),
      metricsIntervalMs: 250,
      ...(frameMs !== undefined ? { frameMs } : {}),
    });
    const finals: string[] = [];
    const startedAt = Date.now();
    const watch = watchProgress(t, live, totalMs, values.metrics === true);
    if (prometheusPort !== undefined) exporter = await servePrometheus(t, prometheusPort);
    await new Promise<void>((resolve, reject) => {
      const subscription = audio.pipe(t).subscribe({
        next: (event) => {
          if (event.type === 'final') finals.push(event.text);
          writer.write(event);
        },
        error: reject,
        complete: resolve,
      });
      subscription.add(watch);
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
    live.clear();
    const last = await firstValueFrom(t.metrics$);
    if (values.metrics === true) process.stderr.write(summary(last, Date.now() - startedAt));
    if (reference !== undefined)
      process.stderr.write(`${describeWer(wordErrorRate(reference, finals.join(' ')))}\n`);
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
    await exporter?.close();
    await server?.close();
  }
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`;
}

/** The progress bar (position, speed, lag) and, with --metrics, the stats after it. */
function watchProgress(
  t: TranscribeOperator,
  live: LiveLine,
  totalMs: number | undefined,
  stats: boolean,
): Subscription {
  let previous: SessionMetrics | undefined;
  let lastLine = 0;
  return t.metrics$.subscribe((m) => {
    const speed =
      previous !== undefined && m.at > previous.at
        ? (m.audioSentMs - previous.audioSentMs) / (m.at - previous.at)
        : 0;
    previous = m;
    const extra = `${speed.toFixed(1)}x  lag ${seconds(m.serverLagMs)}${
      stats
        ? `  reconnects ${m.reconnects}  dropped ${Math.round(m.droppedMs)} ms  in flight ${m.framesInFlight}`
        : ''
    }`;
    live.setProgress(m.audioSentMs, totalMs, extra);
    // Where there is no terminal to redraw, --metrics prints a line a second.
    if (stats && !live.active && m.at - lastLine >= 1000) {
      lastLine = m.at;
      process.stderr.write(`stats: sent ${seconds(m.audioSentMs)}  ${extra}\n`);
    }
  });
}

/** The summary --metrics prints at the end. */
function summary(m: SessionMetrics, wallMs: number): string {
  const rtf = m.audioSentMs > 0 ? wallMs / m.audioSentMs : 0;
  return [
    'summary:',
    `  audio            ${seconds(m.audioSentMs)}`,
    `  wall time        ${seconds(wallMs)}`,
    `  real-time factor ${rtf.toFixed(3)} (${rtf > 0 ? (1 / rtf).toFixed(1) : 'n/a'}x real time)`,
    `  reconnects       ${m.reconnects}`,
    `  replayed         ${Math.round(m.replayedMs)} ms`,
    `  dropped          ${Math.round(m.droppedMs)} ms`,
    `  first partial    ${seconds(m.timeToFirstPartialMs)}`,
    `  final latency    p50 ${seconds(m.finalLatency.p50Ms)}, p99 ${seconds(m.finalLatency.p99Ms)} (${m.finalLatency.count} finals)`,
    '',
  ].join('\n');
}

function describeWer(wer: WordErrorRate): string {
  return `WER ${(wer.rate * 100).toFixed(1)}% (${wer.referenceWords} reference words: ${wer.substitutions} substituted, ${wer.deletions} deleted, ${wer.insertions} inserted)`;
}

/** --prometheus PORT: the client's metrics over HTTP on loopback while the command runs. */
async function servePrometheus(t: TranscribeOperator, port: number): Promise<{ close(): Promise<void> }> {
  const registry = new Registry();
  const tracking = prometheusSink(registry).track(t);
  const http = createServer(async (request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (http.address() as AddressInfo).port;
  process.stderr.write(`metrics on http://127.0.0.1:${actual}/metrics\n`);
  return {
    close: async () => {
      tracking.unsubscribe();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
