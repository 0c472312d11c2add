import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A private PulseAudio server for browser tests (headless Firefox needs one
 * for an AudioContext to run). The microphone is the monitor of a null sink,
 * `speaker`: what `feed` plays into the sink (with `pacat`, at the sink's own
 * real-time clock) is what a page records. It runs in a temporary directory of
 * its own, with anonymous auth on its socket, and `stop()` ends it and removes
 * the directory.
 */
export interface PulseAudio {
  /** `unix:/…/native`: give it to the browser as `PULSE_SERVER`. */
  readonly server: string;
  /** Plays 16 kHz mono 16-bit PCM into the microphone at real time; resolves once it has played. */
  feed(pcm: Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

/** The rate of the PCM `feed` takes. */
export const PULSE_SOURCE_RATE = 16_000;

export async function startPulseAudio(): Promise<PulseAudio> {
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-transcribe-pulse-'));
  const socket = join(dir, 'native');
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
      // The feed's 16 kHz reaches the browser at the device's rate: resample it well.
      '--resample-method=soxr-vhq',
      `--load=module-native-protocol-unix auth-anonymous=1 socket=${socket}`,
      '--load=module-null-sink sink_name=speaker',
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  daemon.stderr?.on('data', (data: Buffer) => {
    log = (log + data.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  // Ready once pactl can talk to it; the sink's monitor is then the default microphone.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await run('pactl', ['set-default-source', 'speaker.monitor'], { env });
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
  const players = new Set<ChildProcess>();
  return {
    server: `unix:${socket}`,
    feed(pcm) {
      const player = spawn(
        'pacat',
        [
          '--playback',
          '--device=speaker',
          '--format=s16le',
          `--rate=${PULSE_SOURCE_RATE}`,
          '--channels=1',
          '--raw',
        ],
        { env, stdio: ['pipe', 'ignore', 'ignore'] },
      );
      players.add(player);
      player.stdin?.on('error', () => {}); // stopped before it took it all
      player.stdin?.end(pcm);
      return new Promise<void>((resolve) =>
        player.once('exit', () => {
          players.delete(player);
          resolve();
        }),
      );
    },
    async stop() {
      for (const player of players) player.kill('SIGKILL');
      daemon.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
