import { type ChildProcess, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { expectedSyntheticWords, syntheticPcm } from '../helpers/audio.js';
import { makeTestCertificate } from '../helpers/test-certificate.js';
import { CONFIG_16K, chunk, EOF, finalWords, runClient } from '../helpers/vosk-client.js';

const BIN = new URL('../../bin/rxjs-transcribe.mjs', import.meta.url).pathname;

/** Starts the CLI and resolves with the URL it prints once listening. */
function serve(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /listening on (wss?:\/\/\S+)/.exec(stderr)?.[1];
      if (url) resolve({ child, url, stderr: () => stderr });
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('rxjs-transcribe serve (needs dist/, built by npm test)', () => {
  it('serves the Vosk protocol on the port it prints, and stops cleanly on SIGTERM', async () => {
    const { child, url, stderr } = await serve(['--port', '0', '--engine', 'synthetic', '--realtime', '50']);
    expect(stderr()).toMatch(/synthetic engine, realtime 50x/);
    const pcm = syntheticPcm(2);
    const run = await runClient(url, [CONFIG_16K, ...chunk(pcm, 3200), EOF]);
    expect(finalWords(run).map((w) => w.word)).toEqual(expectedSyntheticWords(pcm).map((w) => w.word));
    const exited = exitCode(child);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('serves wss: with --tls-cert and --tls-key, and refuses one without the other', async () => {
    const certificate = makeTestCertificate();
    try {
      const { child, url } = await serve([
        '--port',
        '0',
        '--engine',
        'synthetic',
        '--tls-cert',
        certificate.certPath,
        '--tls-key',
        certificate.keyPath,
      ]);
      expect(url).toMatch(/^wss:/);
      const pcm = syntheticPcm(1);
      const run = await runClient(url, [CONFIG_16K, ...chunk(pcm, 3200), EOF], { ca: certificate.cert });
      expect(finalWords(run).length).toBe(expectedSyntheticWords(pcm).length);
      const exited = exitCode(child);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await expect(serve(['--port', '0', '--tls-cert', certificate.certPath])).rejects.toThrow(
        /--tls-cert and --tls-key go together/,
      );
    } finally {
      certificate.remove();
    }
  });

  it('refuses a bad option with a one-line message and a non-zero status', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--engine', 'whisper'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    expect(await exitCode(child)).toBe(1);
    expect(stderr.trim()).toBe('rxjs-transcribe: --engine takes pocketsphinx or synthetic, got "whisper"');
  });
});
