import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import { expectedSyntheticWords, writeSyntheticWav } from '../helpers/audio.js';

const BIN = new URL('../../bin/rxjs-transcribe.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'cli-obs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function wav(seconds: number, seed: number): { path: string; words: string[] } {
  const { path, pcm } = writeSyntheticWav(dir, seconds, seed);
  return { path, words: expectedSyntheticWords(pcm).map((w) => w.word) };
}

function run(
  args: string[],
  onStderr?: (text: string) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('rxjs-transcribe FILE: observability flags (needs dist/, built by npm test)', () => {
  it('--metrics prints stats lines while it runs and a summary at the end', async () => {
    const { path } = wav(4, 1);
    const result = await run([path, '--engine', 'synthetic', '--realtime', '2', '--metrics']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /^stats: sent \d+\.\d\d s {2}[\d.]+x {2}lag [\d.]+ s {2}reconnects 0 {2}dropped 0 ms/m,
    );
    expect(result.stderr).toMatch(
      /summary:\n {2}audio {12}4\.00 s\n {2}wall time {8}\d+\.\d\d s\n {2}real-time factor \d\.\d{3}/,
    );
    expect(result.stderr).toMatch(/final latency {4}p50 [\d.]+ s, p99 [\d.]+ s \(4 finals\)/);
  });

  it('--reference prints the word error rate against the reference text', async () => {
    const { path, words } = wav(5, 2);
    const exact = join(dir, 'exact.txt');
    writeFileSync(exact, words.join(' '));
    const exactRun = await run([path, '--engine', 'synthetic', '--reference', exact]);
    expect(exactRun.stderr.trim()).toBe('WER 0.0% (5 reference words: 0 substituted, 0 deleted, 0 inserted)');
    const wrong = join(dir, 'wrong.txt');
    writeFileSync(wrong, ['wrong', ...words.slice(1), 'extra'].join(' '));
    const wrongRun = await run([path, '--engine', 'synthetic', '--reference', wrong]);
    expect(wrongRun.stderr.trim()).toBe(
      'WER 33.3% (6 reference words: 1 substituted, 1 deleted, 0 inserted)',
    );
  });

  it('--prometheus PORT serves the client metrics while it runs, in text a real parser reads', async () => {
    const { path } = wav(3, 3);
    let scraped: Promise<string> | undefined;
    const result = await run(
      [path, '--engine', 'synthetic', '--realtime', '2', '--prometheus', '0'],
      (stderr) => {
        const url = /metrics on (http:\/\/\S+)/.exec(stderr)?.[1];
        if (url !== undefined && scraped === undefined) {
          scraped = new Promise((resolve) => setTimeout(resolve, 700)).then(async () =>
            (await fetch(url)).text(),
          );
        }
      },
    );
    expect(result.code).toBe(0);
    const families = parsePrometheusTextFormat(await scraped!);
    const active = families.find((f) => f.name === 'rxjs_transcribe_sessions_active');
    expect(active?.metrics[0]?.value).toBe('1');
    const sent = Number(
      families.find((f) => f.name === 'rxjs_transcribe_audio_sent_seconds_total')?.metrics[0]?.value,
    );
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(3);
  });
});
