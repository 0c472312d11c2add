import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { type Engine, EngineFailure, type EngineSession, type EngineSessionOptions } from './engine.js';
import { pocketsphinxBinary } from './pocketsphinx-binary.js';

/** The rate of the en-us acoustic model that Debian's pocketsphinx-en-us ships. */
const MODEL_RATE = 16000;
/** How much of the engine's stderr is kept for error messages. */
const STDERR_KEEP = 2048;

/** Options of the pocketsphinx engine. */
export interface PocketsphinxEngineOptions {
  /** Path of a prebuilt engine binary; by default it is built on first use. */
  readonly binary?: string;
  /** Acoustic model folder, language model and dictionary; Debian's en-us model by default. */
  readonly hmm?: string;
  readonly lm?: string;
  readonly dict?: string;
}

interface Pending {
  resolve(reply: string): void;
  reject(error: Error): void;
}

type EngineProcess = ChildProcessByStdio<Writable, Readable, Readable>;

/**
 * One recogniser process per session: a crash ends that session alone. The
 * process reads framed messages on stdin and writes one JSON line per message.
 */
class PocketsphinxSession implements EngineSession {
  private child: EngineProcess | undefined;
  private readonly started: Promise<EngineProcess>;
  private readonly pending: Pending[] = [];
  private stdout = '';
  private stderr = '';
  private failure: EngineFailure | undefined;
  private closing = false;
  /** End of stream was sent: the process exits by itself after its last reply. */
  private ended = false;
  private readonly exited: Promise<void>;
  private markExited!: () => void;

  constructor(
    private readonly binary: Promise<string>,
    private readonly args: readonly string[],
    private readonly onFailure: (error: EngineFailure) => void,
  ) {
    this.exited = new Promise((resolve) => {
      this.markExited = resolve;
    });
    this.started = this.start();
    // A failure to start is reported through calls and onFailure, never unhandled.
    this.started.catch(() => {});
  }

  private async start(): Promise<EngineProcess> {
    let path: string;
    try {
      path = await this.binary;
    } catch (error) {
      this.markExited();
      throw this.fail(new EngineFailure((error as Error).message));
    }
    if (this.closing) {
      this.markExited();
      throw this.fail(new EngineFailure('the session closed before the engine started'));
    }
    const child = spawn(path, this.args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEEP);
    });
    // EPIPE when the process died under a write: the exit handler reports it.
    child.stdin.on('error', () => {});
    child.on('error', (error) => {
      this.fail(new EngineFailure(`could not run the pocketsphinx engine: ${error.message}`));
      this.markExited();
    });
    // 'close', not 'exit': by then every line the process wrote has been read.
    child.on('close', (code, signal) => {
      if (!(this.closing || this.ended) || this.pending.length > 0) {
        const how = signal !== null ? `was killed by ${signal}` : `exited with status ${code}`;
        const detail = this.stderr.trim().split('\n').pop();
        this.fail(new EngineFailure(`the pocketsphinx engine ${how}${detail ? `: ${detail}` : ''}`));
      }
      this.markExited();
    });
    return child;
  }

  private onStdout(chunk: string): void {
    this.stdout += chunk;
    let newline = this.stdout.indexOf('\n');
    while (newline >= 0) {
      const line = this.stdout.slice(0, newline);
      this.stdout = this.stdout.slice(newline + 1);
      const waiter = this.pending.shift();
      if (waiter === undefined) {
        this.fail(new EngineFailure('the pocketsphinx engine replied to nothing'));
        return;
      }
      waiter.resolve(line);
      newline = this.stdout.indexOf('\n');
    }
  }

  private fail(error: EngineFailure): EngineFailure {
    if (this.failure !== undefined) return this.failure;
    this.failure = error;
    for (const waiter of this.pending.splice(0)) waiter.reject(error);
    if (!this.closing) this.onFailure(error);
    this.child?.kill('SIGKILL');
    return error;
  }

  private async send(type: 'A' | 'E', payload: Uint8Array): Promise<string> {
    const child = await this.started;
    if (this.failure !== undefined) throw this.failure;
    const header = Buffer.allocUnsafe(5);
    header.write(type, 0, 'latin1');
    header.writeUInt32LE(payload.length, 1);
    return new Promise<string>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      child.stdin.write(header);
      if (payload.length > 0) child.stdin.write(payload);
    });
  }

  accept(pcm: Uint8Array): Promise<string> {
    return this.send('A', pcm);
  }

  finish(): Promise<string> {
    this.ended = true;
    return this.send('E', new Uint8Array(0));
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
    await this.started.catch(() => {});
    await this.exited;
  }
}

/**
 * The pocketsphinx engine: CMU PocketSphinx from Debian, one process per
 * session, giving partials while speech goes on, a final per utterance with
 * word times and confidences, and a flush of the last utterance at EOF. Its
 * finals are the words `pocketsphinx_continuous -infile` prints for the same
 * audio. Takes 16 kHz audio only, the rate of the en-us model.
 */
export function pocketsphinxEngine(options: PocketsphinxEngineOptions = {}): Engine {
  const binary = (): Promise<string> =>
    options.binary !== undefined ? Promise.resolve(options.binary) : pocketsphinxBinary();
  const modelArgs: string[] = [];
  if (options.hmm !== undefined) modelArgs.push('--hmm', options.hmm);
  if (options.lm !== undefined) modelArgs.push('--lm', options.lm);
  if (options.dict !== undefined) modelArgs.push('--dict', options.dict);
  return {
    name: 'pocketsphinx',
    defaultSampleRate: MODEL_RATE,
    checkSampleRate(sampleRate) {
      return sampleRate === MODEL_RATE
        ? undefined
        : `the pocketsphinx engine takes ${MODEL_RATE} Hz only (the rate of its en-us model); resample the audio`;
    },
    createSession(session: EngineSessionOptions, onFailure) {
      const args = [
        '--samprate',
        String(session.sampleRate),
        '--words',
        session.words ? '1' : '0',
        ...modelArgs,
      ];
      return new PocketsphinxSession(binary(), args, onFailure);
    },
  };
}
