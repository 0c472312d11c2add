import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { expectedSyntheticWords, syntheticPcm } from '../helpers/audio.js';
import { eventually } from '../helpers/resources.js';
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

  it('on SIGTERM drains: open sessions finish, new ones are refused with 1013, then it exits 0; keys come from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-keys-'));
    const keyFile = join(dir, 'keys');
    writeFileSync(keyFile, '# one key a line\nfile-key-1\n\nfile-key-2\n');
    try {
      const { child, url, stderr } = await serve([
        '--port',
        '0',
        '--engine',
        'synthetic',
        '--api-key-file',
        keyFile,
        '--drain-ms',
        '5000',
      ]);
      expect(stderr()).toMatch(/2 API keys/);
      expect(stderr()).not.toMatch(/file-key/);
      const socket = new WebSocket(url, { headers: { authorization: 'Bearer file-key-2' } });
      await new Promise((resolve) => socket.on('open', resolve));
      const socketClosed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
      const exited = exitCode(child);
      child.kill('SIGTERM');
      await eventually(() => expect(stderr()).toMatch(/draining: no new sessions; 1 open session/));
      const late = await runClient(`${url}/?token=file-key-1`, [CONFIG_16K, EOF]);
      expect(late.closeCode).toBe(1013);
      const pcm = syntheticPcm(1);
      socket.send(CONFIG_16K);
      for (const frame of chunk(pcm, 3200)) socket.send(frame);
      socket.send(EOF);
      expect(await socketClosed).toBe(1000);
      expect(await exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
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
