import WebSocket from 'ws';
import { chunk } from './vosk-client.js';

/** A message from a `/v3/ws` server, parsed. */
export type AssemblyAIMessage = Record<string, unknown> & { type: string };

/** What a plain `ws` client sent to `/v3/ws` got back. */
export interface AssemblyAIRun {
  readonly messages: AssemblyAIMessage[];
  readonly closeCode: number;
  readonly closeReason: string;
}

/** A step of a scripted client: a message to send, or a pause. */
export type Step = string | Uint8Array | { readonly waitMs: number };

export interface AssemblyAIClientOptions {
  readonly headers?: Record<string, string>;
  /** Wait for `Begin` before the steps (default true), as the SDK does. */
  readonly awaitBegin?: boolean;
}

/** The `/v3/ws` URL of a server, with a query (`sample_rate=16000` unless given). */
export function v3Url(serverUrl: string, query: Record<string, string> = {}): string {
  const search = new URLSearchParams({ sample_rate: '16000', ...query }).toString();
  return `${serverUrl}/v3/ws?${search}`;
}

/** PCM as frames of `frameMs` (16 kHz), each followed by a wait of its duration: real time. */
export function paced(pcm: Uint8Array, frameMs = 100): Step[] {
  const steps: Step[] = [];
  for (const frame of chunk(pcm, (16000 * 2 * frameMs) / 1000)) steps.push(frame, { waitMs: frameMs });
  return steps;
}

/** Sends the steps in order once open (after `Begin`, unless told), and collects every message until the close. */
export function runAssemblyAI(
  url: string,
  steps: readonly Step[],
  options: AssemblyAIClientOptions = {},
): Promise<AssemblyAIRun> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: options.headers ?? {} });
    const messages: AssemblyAIMessage[] = [];
    let started = false;
    const start = async (): Promise<void> => {
      if (started) return;
      started = true;
      const began = performance.now();
      let dueMs = 0;
      for (const step of steps) {
        if (socket.readyState !== WebSocket.OPEN) return;
        if (typeof step === 'object' && 'waitMs' in step) {
          // Waits add up against the clock, so timer lateness does not slow the stream down.
          dueMs += step.waitMs;
          const wait = dueMs - (performance.now() - began);
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        } else socket.send(step);
      }
    };
    socket.on('open', () => {
      if (options.awaitBegin === false) void start();
    });
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as AssemblyAIMessage;
      messages.push(message);
      if (message.type === 'Begin') void start();
    });
    socket.on('error', (error) => {
      if (socket.readyState !== WebSocket.CLOSED && socket.readyState !== WebSocket.CLOSING) reject(error);
    });
    socket.on('close', (code, reason) => {
      resolve({ messages, closeCode: code, closeReason: reason.toString('utf8') });
    });
  });
}

/** The `Turn` messages of a run. */
export function turnsOf(run: AssemblyAIRun): AssemblyAIMessage[] {
  return run.messages.filter((m) => m.type === 'Turn');
}

/** A word of a `Turn`. */
export interface TurnWord {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly confidence: number;
  readonly word_is_final: boolean;
}

/** The words of the end-of-turn turns (unformatted ones only, by default). */
export function finalWords(run: AssemblyAIRun, formatted = false): TurnWord[] {
  return turnsOf(run)
    .filter((m) => m.end_of_turn === true && m.turn_is_formatted === formatted)
    .flatMap((m) => m.words as TurnWord[]);
}
