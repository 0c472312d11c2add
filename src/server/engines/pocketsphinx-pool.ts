import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** How much of the pool's stderr is kept for error messages. */
const STDERR_KEEP = 2048;

/** How a session's process ended, as the pool's waitpid() saw it. */
export interface EngineExit {
  /** Exit status, or null when a signal ended it. */
  readonly code: number | null;
  /** Name of the signal that ended it (`SIGKILL`), or null. */
  readonly signal: NodeJS.Signals | null;
}

/** A session's connection to its forked recogniser process. */
export interface PooledProcess {
  readonly pid: number;
  /** The session's framed messages go out, its reply lines come in (bytes after the hello included). */
  readonly socket: Socket;
  /** Bytes that arrived with the hello line, before the socket was handed over. */
  readonly leftover: string;
  /** Resolves once the process has ended, with how. */
  readonly exited: Promise<EngineExit>;
}

type PoolProcess = ChildProcessByStdio<Writable, Readable, Readable>;

const SIGNALS: Record<number, NodeJS.Signals> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  15: 'SIGTERM',
};

/**
 * The warm engine pool: one process loads the model once and listens on a
 * Unix socket in a private folder; every connection to it is a forked child
 * running one session, its model pages shared copy-on-write. The pool reports
 * each child's end on its stdout; when this Node process goes, the pool's
 * stdin closes and it exits, its children with it (PR_SET_PDEATHSIG).
 */
export class PocketsphinxPool {
  private readonly dir: string;
  private readonly path: string;
  private child: PoolProcess | undefined;
  private ready: Promise<void> | undefined;
  private stdout = '';
  private stderr = '';
  private readonly waiting = new Map<number, (exit: EngineExit) => void>();
  /** Exits reported before their session registered. */
  private readonly early = new Map<number, EngineExit>();
  private closed = false;

  constructor(
    private readonly binary: () => Promise<string>,
    private readonly modelArgs: readonly string[],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-pool-'));
    this.path = join(this.dir, 'engine.sock');
  }

  /** Starts the pool if it is not running; resolves once it listens. */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the pocketsphinx engine was closed'));
    this.ready ??= this.spawnPool().catch((error: unknown) => {
      this.ready = undefined; // the next session tries again
      throw error;
    });
    return this.ready;
  }

  private async spawnPool(): Promise<void> {
    const path = await this.binary();
    if (this.closed) throw new Error('the pocketsphinx engine was closed');
    const child = spawn(path, ['--listen', this.path, ...this.modelArgs], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.stdout = '';
    this.stderr = '';
    // The pool must not keep the server's process alive; it ends with it.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) {
      (stream as unknown as { unref?: () => void }).unref?.();
    }
    child.stdin.on('error', () => {});
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEEP);
    });
    return new Promise<void>((resolve, reject) => {
      let listening = false;
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        this.stdout += chunk;
        let newline = this.stdout.indexOf('\n');
        while (newline >= 0) {
          const line = this.stdout.slice(0, newline);
          this.stdout = this.stdout.slice(newline + 1);
          if (line === 'R') {
            listening = true;
            resolve();
          } else if (line.startsWith('X ')) this.onExit(line);
          newline = this.stdout.indexOf('\n');
        }
      });
      child.on('error', (error) =>
        reject(new Error(`could not run the pocketsphinx engine: ${error.message}`)),
      );
      child.on('close', (code, signal) => {
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        // Its children died with it; sessions still waiting learn it here.
        const how = signal !== null ? `was killed by ${signal}` : `exited with status ${code}`;
        const detail = this.stderr.trim().split('\n').pop();
        for (const [pid, done] of this.waiting) {
          this.waiting.delete(pid);
          done({ code: null, signal: 'SIGKILL' });
        }
        if (!listening) {
          reject(new Error(`the pocketsphinx engine ${how}${detail ? `: ${detail}` : ''}`));
        }
      });
    });
  }

  private onExit(line: string): void {
    const [, pid, code, signal] = line.split(' ').map(Number);
    if (pid === undefined) return;
    const exit: EngineExit =
      signal !== undefined && signal > 0
        ? { code: null, signal: SIGNALS[signal] ?? (`SIG${signal}` as NodeJS.Signals) }
        : { code: code ?? null, signal: null };
    const done = this.waiting.get(pid);
    if (done === undefined) this.early.set(pid, exit);
    else {
      this.waiting.delete(pid);
      done(exit);
    }
  }

  /** Forks a session's process from the warm pool, starting the pool first if need be. */
  async fork(): Promise<PooledProcess> {
    await this.start();
    const socket = connect(this.path);
    const hello = await new Promise<{ pid: number; leftover: string }>((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('utf8');
        const newline = text.indexOf('\n');
        if (newline < 0) return;
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
        socket.pause();
        const match = /^P (\d+)$/.exec(text.slice(0, newline));
        if (match === null) reject(new Error('the pocketsphinx engine pool sent no hello'));
        else resolve({ pid: Number(match[1]), leftover: text.slice(newline + 1) });
      };
      const onError = (error: Error): void =>
        reject(new Error(`could not reach the engine pool: ${error.message}`));
      const onClose = (): void => reject(new Error('the engine pool closed the connection before its hello'));
      socket.on('data', onData);
      socket.once('error', onError);
      socket.once('close', onClose);
    }).catch((error: unknown) => {
      socket.destroy();
      throw error;
    });
    const exited = new Promise<EngineExit>((resolve) => {
      const early = this.early.get(hello.pid);
      if (early !== undefined) {
        this.early.delete(hello.pid);
        resolve(early);
      } else if (this.child === undefined) resolve({ code: null, signal: 'SIGKILL' });
      else this.waiting.set(hello.pid, resolve);
    });
    return { pid: hello.pid, socket, leftover: hello.leftover, exited };
  }

  /** Stops the pool (its sessions' processes die with it) and removes its socket folder. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
      child.stdin.end(); // the pool exits when its stdin closes
      await gone;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
