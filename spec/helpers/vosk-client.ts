import WebSocket from 'ws';

/** How a test client behaved and what it got back. */
export interface ClientRun {
  /** Every text reply, parsed, in order. */
  readonly replies: Array<Record<string, unknown>>;
  readonly closeCode: number;
  readonly closeReason: string;
  /** Milliseconds from open to close. */
  readonly elapsedMs: number;
}

/** A message for the server: text (a JSON string) or binary audio. */
export type Outgoing = string | Uint8Array;

export interface ClientOptions {
  /** 'burst' sends everything at once (never waits); 'lockstep' waits for a reply after each audio frame or EOF. */
  readonly mode?: 'burst' | 'lockstep';
  /** Called when the socket opens, with the socket, for tests that need it. */
  readonly onOpen?: (socket: WebSocket) => void;
  /** A certificate to trust, for a server on `wss:` with a throwaway certificate. */
  readonly ca?: string;
}

const expectsReply = (message: Outgoing): boolean =>
  typeof message !== 'string' || !message.includes('"config"');

/** A plain `ws` client, as a Vosk user would write one: sends messages, collects replies until the close. */
export function runClient(
  url: string,
  messages: readonly Outgoing[],
  options: ClientOptions = {},
): Promise<ClientRun> {
  const mode = options.mode ?? 'burst';
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.ca !== undefined ? { ca: options.ca } : {});
    const replies: Array<Record<string, unknown>> = [];
    let started = 0;
    let next = 0;
    const sendUntilReplyNeeded = (): void => {
      while (next < messages.length) {
        const message = messages[next++]!;
        socket.send(message);
        if (mode === 'lockstep' && expectsReply(message)) return;
      }
    };
    socket.on('open', () => {
      started = performance.now();
      options.onOpen?.(socket);
      sendUntilReplyNeeded();
    });
    socket.on('message', (data: Buffer) => {
      replies.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
      if (mode === 'lockstep') sendUntilReplyNeeded();
    });
    socket.on('error', (error) => {
      if (socket.readyState !== WebSocket.CLOSED && socket.readyState !== WebSocket.CLOSING) reject(error);
    });
    socket.on('close', (code, reason) => {
      resolve({
        replies,
        closeCode: code,
        closeReason: reason.toString('utf8'),
        elapsedMs: performance.now() - started,
      });
    });
  });
}

/** Cuts bytes into frames of `size` bytes (the last may be shorter). */
export function chunk(bytes: Uint8Array, size: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size)
    frames.push(bytes.subarray(offset, offset + size));
  return frames;
}

export const CONFIG_16K = JSON.stringify({ config: { sample_rate: 16000, words: true } });
export const EOF = '{"eof" : 1}';

/** The words of every final in a run, in order. */
export function finalWords(
  run: ClientRun,
): Array<{ word: string; start: number; end: number; conf: number }> {
  return run.replies.flatMap((reply) => (Array.isArray(reply.result) ? reply.result : []));
}

/** The texts of every final, joined by spaces (empty utterances skipped). */
export function finalText(run: ClientRun): string {
  return run.replies
    .filter((reply) => typeof reply.text === 'string' && reply.text !== '')
    .map((reply) => reply.text as string)
    .join(' ');
}
