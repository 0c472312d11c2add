import { type Engine, EngineFailure, type EngineSession, type EngineSessionOptions } from './engine.js';
import { pocketsphinxBinary } from './pocketsphinx-binary.js';
import { PocketsphinxPool, type PooledProcess } from './pocketsphinx-pool.js';

/** The rate of the en-us acoustic model that Debian's pocketsphinx-en-us ships. */
const MODEL_RATE = 16000;

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

/** The options message that starts a session: its settings, one per line. */
function optionsMessage(options: EngineSessionOptions): Uint8Array {
  const lines = [`words ${options.words ? 1 : 0}`, `alternatives ${options.alternatives ?? 0}`];
  // One phrase per line: a line break inside a phrase is a word break.
  for (const phrase of options.phrases ?? []) lines.push(`phrase ${phrase.replace(/\s+/g, ' ')}`);
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/**
 * One recogniser process per session, forked from the warm pool: a crash
 * ends that session alone. The process reads framed messages on its socket
 * and writes one JSON line per message.
 */
class PocketsphinxSession implements EngineSession {
  private process: PooledProcess | undefined;
  private readonly started: Promise<PooledProcess>;
  private readonly pending: Pending[] = [];
  private stdout = '';
  private failure: EngineFailure | undefined;
  private closing = false;
  /** End of stream was sent: the process exits by itself after its last reply. */
  private ended = false;
  private readonly exited: Promise<void>;
  private markExited!: () => void;
  /** The pool reported the process's end. */
  private processEnded = false;
  /** The last error line the process wrote ("!" lines), for the failure's message. */
  private lastError: string | undefined;

  constructor(
    private readonly pool: PocketsphinxPool,
    private readonly options: EngineSessionOptions,
    private readonly onFailure: (error: EngineFailure) => void,
  ) {
    this.exited = new Promise((resolve) => {
      this.markExited = resolve;
    });
    this.started = this.start();
    // A failure to start is reported through calls and onFailure, never unhandled.
    this.started.catch(() => {});
  }

  private async start(): Promise<PooledProcess> {
    let child: PooledProcess;
    try {
      child = await this.pool.fork();
    } catch (error) {
      this.markExited();
      throw this.fail(new EngineFailure((error as Error).message));
    }
    this.process = child;
    const { socket } = child;
    let socketClosed: () => void;
    const closed = new Promise<void>((resolve) => {
      socketClosed = resolve;
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onStdout(chunk));
    // EPIPE or a reset when the process died under a write: its exit reports it.
    socket.on('error', () => {});
    socket.on('close', () => socketClosed());
    socket.resume();
    if (child.leftover.length > 0) this.onStdout(child.leftover);
    void child.exited.then(() => {
      this.processEnded = true;
    });
    // Both: every line the process wrote has been read, and how it ended is known.
    void Promise.all([child.exited, closed]).then(([exit]) => {
      if (!(this.closing || this.ended) || this.pending.length > 0) {
        const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
        this.fail(
          new EngineFailure(`the pocketsphinx engine ${how}${this.lastError ? `: ${this.lastError}` : ''}`),
        );
      }
      this.markExited();
    });
    if (this.closing) {
      this.kill();
      throw this.fail(new EngineFailure('the session closed before the engine started'));
    }
    const ready = await this.write('O', optionsMessage(this.options));
    if (ready !== '{}')
      throw this.fail(new EngineFailure(`the pocketsphinx engine refused its options: ${ready}`));
    return child;
  }

  private onStdout(chunk: string): void {
    this.stdout += chunk;
    let newline = this.stdout.indexOf('\n');
    while (newline >= 0) {
      const line = this.stdout.slice(0, newline);
      this.stdout = this.stdout.slice(newline + 1);
      if (line.startsWith('!')) {
        this.lastError = line.slice(1);
        newline = this.stdout.indexOf('\n');
        continue;
      }
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
    this.kill();
    return error;
  }

  /** Kills the process unless its end was already seen (its pid may be reused after). */
  private kill(): void {
    const child = this.process;
    if (child === undefined) return;
    this.process = undefined;
    if (!this.processEnded) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child.socket.destroy();
  }

  private write(type: 'O' | 'A' | 'R' | 'E', payload: Uint8Array): Promise<string> {
    const child = this.process;
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (child === undefined) return Promise.reject(new EngineFailure('the pocketsphinx engine is gone'));
    const header = Buffer.allocUnsafe(5);
    header.write(type, 0, 'latin1');
    header.writeUInt32LE(payload.length, 1);
    return new Promise<string>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      child.socket.write(header);
      if (payload.length > 0) child.socket.write(payload);
    });
  }

  private async send(type: 'A' | 'R' | 'E', payload: Uint8Array): Promise<string> {
    await this.started;
    return this.write(type, payload);
  }

  accept(pcm: Uint8Array): Promise<string> {
    return this.send('A', pcm);
  }

  finish(): Promise<string> {
    this.ended = true;
    return this.send('E', new Uint8Array(0));
  }

  reset(): Promise<string> {
    return this.send('R', new Uint8Array(0));
  }

  async close(): Promise<void> {
    this.closing = true;
    this.kill();
    await this.started.catch(() => {});
    await this.exited;
  }
}

/**
 * The pocketsphinx engine: CMU PocketSphinx from Debian, one process per
 * session forked from a warm pool that loaded the model once (started when
 * the engine is made), giving partials while speech goes on, a final per
 * utterance with word times and confidences, a flush of the last utterance
 * at EOF, resets, N-best alternatives and phrase-list grammars. Its finals are
 * the words `pocketsphinx_continuous -infile` prints for the same audio.
 * Takes 16 kHz audio only, the rate of the en-us model. `close()` stops the
 * pool; without it the pool ends with this process.
 */
export function pocketsphinxEngine(options: PocketsphinxEngineOptions = {}): Engine {
  const binary = (): Promise<string> =>
    options.binary !== undefined ? Promise.resolve(options.binary) : pocketsphinxBinary();
  const modelArgs: string[] = [];
  if (options.hmm !== undefined) modelArgs.push('--hmm', options.hmm);
  if (options.lm !== undefined) modelArgs.push('--lm', options.lm);
  if (options.dict !== undefined) modelArgs.push('--dict', options.dict);
  const pool = new PocketsphinxPool(binary, modelArgs);
  // Warm at once, so that the first session does not wait for the model; a
  // failure here is the first session's to report (and retry).
  pool.start().catch(() => {});
  return {
    name: 'pocketsphinx',
    defaultSampleRate: MODEL_RATE,
    checkSampleRate(sampleRate) {
      return sampleRate === MODEL_RATE
        ? undefined
        : `the pocketsphinx engine takes ${MODEL_RATE} Hz only (the rate of its en-us model); resample the audio`;
    },
    createSession(session: EngineSessionOptions, onFailure) {
      return new PocketsphinxSession(pool, session, onFailure);
    },
    close() {
      return pool.close();
    },
  };
}
