import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A private PulseAudio server for browser tests (headless Firefox needs one
 * for an AudioContext to run): a null sink to play into, and a pipe source
 * named `speech` as the default microphone, fed with 16 kHz mono 16-bit PCM
 * at real time.
 * It runs in a temporary directory of its own, with anonymous auth on its
 * socket, and is stopped (and the directory removed) by `stop()`.
 */
export interface PulseAudio {
  /** `unix:/…/native`: give it to the browser as `PULSE_SERVER`. */
  readonly server: string;
  /**
   * Plays PCM into the microphone at real time (the pipe source passes on what it is given
   * as fast as it comes, so the pacing is here): resolves when the last of it is written.
   */
  feed(pcm: Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

/** The rate of the `speech` source's PCM. */
export const PULSE_SOURCE_RATE = 16_000;

export async function startPulseAudio(): Promise<PulseAudio> {
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-pulse-'));
  const socket = join(dir, 'native');
  const fifo = join(dir, 'speech.fifo');
  const env = {
    ...process.env,
    HOME: dir,
    XDG_RUNTIME_DIR: dir,
    PULSE_RUNTIME_PATH: dir,
    PULSE_SERVER: `unix:${socket}`,
  };
  const daemon: ChildProcess = spawn(
    'pulseaudio',
    [
      '-n', // none of the system's default modules: only these
      '--daemonize=no',
      '--exit-idle-time=-1',
      '--log-target=stderr',
      // The source's 16 kHz reaches the browser at the device's rate: resample it well.
      '--resample-method=soxr-vhq',
      `--load=module-native-protocol-unix auth-anonymous=1 socket=${socket}`,
      '--load=module-null-sink sink_name=silent',
      `--load=module-pipe-source source_name=speech file=${fifo} format=s16le rate=${PULSE_SOURCE_RATE} channels=1`,
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  daemon.stderr?.on('data', (data: Buffer) => {
    log = (log + data.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  // Ready once pactl can talk to it and the source is there.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await run('pactl', ['set-default-source', 'speech'], { env });
      break;
    } catch {
      if (Date.now() > deadline || daemon.exitCode !== null) {
        daemon.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`pulseaudio did not start: ${log.trim().split('\n').slice(-3).join(' | ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  let writer: WriteStream | undefined;
  return {
    server: `unix:${socket}`,
    feed(pcm) {
      // Errors: the reader went away at stop().
      writer ??= createWriteStream(fifo).on('error', () => {});
      const out = writer;
      const bytesPerMs = (PULSE_SOURCE_RATE * 2) / 1000;
      const started = performance.now();
      let written = 0;
      return new Promise<void>((resolve) => {
        // What wall time says is due, in whole samples, every 10 ms: late ticks catch up.
        const tick = setInterval(() => {
          const due = Math.min(pcm.length, Math.floor(((performance.now() - started) * bytesPerMs) / 2) * 2);
          if (due > written) out.write(pcm.subarray(written, due));
          written = due;
          if (written >= pcm.length) {
            clearInterval(tick);
            resolve();
          }
        }, 10);
      });
    },
    async stop() {
      writer?.destroy();
      daemon.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
