import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import WebSocket from 'ws';

/** A message from a `/v1/listen` server, parsed. */
export type DeepgramMessage = Record<string, unknown> & { type: string };

/** What a plain `ws` client sent to `/v1/listen` got back. */
export interface DeepgramRun {
  readonly messages: DeepgramMessage[];
  readonly closeCode: number;
  readonly closeReason: string;
  /** The subprotocol the server selected ('' for none). */
  readonly protocol: string;
  /** Headers of the 101 response. */
  readonly headers: IncomingHttpHeaders;
}

/** A step of a scripted client: a message to send, or a pause. */
export type Step = string | Uint8Array | { readonly waitMs: number };

export interface DeepgramClientOptions {
  readonly headers?: Record<string, string>;
  readonly protocols?: string[];
}

/** The `/v1/listen` URL of a server, with a query. */
export function listenUrl(serverUrl: string, query: Record<string, string> = {}): string {
  const search = new URLSearchParams(query).toString();
  return `${serverUrl}/v1/listen${search ? `?${search}` : ''}`;
}

/** Sends the steps in order once open (waiting where told), and collects every message until the close. */
export function runDeepgram(
  url: string,
  steps: readonly Step[],
  options: DeepgramClientOptions = {},
): Promise<DeepgramRun> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
    const messages: DeepgramMessage[] = [];
    let headers: IncomingHttpHeaders = {};
    socket.on('upgrade', (response: IncomingMessage) => {
      headers = response.headers;
    });
    socket.on('open', async () => {
      for (const step of steps) {
        if (socket.readyState !== WebSocket.OPEN) return;
        if (typeof step === 'object' && 'waitMs' in step) {
          await new Promise((r) => setTimeout(r, step.waitMs));
        } else socket.send(step);
      }
    });
    socket.on('message', (data: Buffer) => {
      messages.push(JSON.parse(data.toString('utf8')) as DeepgramMessage);
    });
    socket.on('error', (error) => {
      if (socket.readyState !== WebSocket.CLOSED && socket.readyState !== WebSocket.CLOSING) reject(error);
    });
    socket.on('close', (code, reason) => {
      resolve({
        messages,
        closeCode: code,
        closeReason: reason.toString('utf8'),
        protocol: socket.protocol,
        headers,
      });
    });
  });
}

/** What the server answered to an upgrade it refused. */
export interface HttpRefusal {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Opens a WebSocket expecting the upgrade to be refused; resolves with the HTTP answer. */
export function refusedUpgrade(url: string, options: DeepgramClientOptions = {}): Promise<HttpRefusal> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
    socket.on('unexpected-response', (_request, response: IncomingMessage) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
        socket.terminate();
      });
    });
    socket.on('open', () => {
      socket.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    socket.on('error', () => {});
  });
}

/** The `Results` messages of a run. */
export function results(run: { messages: readonly DeepgramMessage[] }): DeepgramMessage[] {
  return run.messages.filter((m) => m.type === 'Results');
}

/** The final `Results` of a run. */
export function finals(run: { messages: readonly DeepgramMessage[] }): DeepgramMessage[] {
  return results(run).filter((m) => m.is_final === true);
}

interface Word {
  word: string;
  start: number;
  end: number;
  confidence: number;
}

/** The first alternative of a `Results` message. */
export function alternative(message: DeepgramMessage): {
  transcript: string;
  confidence: number;
  words: Word[];
} {
  const channel = message.channel as {
    alternatives: Array<{ transcript: string; confidence: number; words: Word[] }>;
  };
  return channel.alternatives[0]!;
}

/** Every word of every final, in order. */
export function finalWords(run: { messages: readonly DeepgramMessage[] }): Word[] {
  return finals(run).flatMap((m) => alternative(m).words);
}

export const CLOSE_STREAM = JSON.stringify({ type: 'CloseStream' });
export const FINALIZE = JSON.stringify({ type: 'Finalize' });
export const KEEP_ALIVE = JSON.stringify({ type: 'KeepAlive' });
