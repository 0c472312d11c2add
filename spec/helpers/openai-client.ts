import WebSocket from 'ws';

/** An event from a `/v1/realtime` server, parsed. */
export type RealtimeEvent = Record<string, unknown> & { type: string };

/** The transcription URL of a server. */
export function realtimeUrl(serverUrl: string, query = 'intent=transcription'): string {
  return `${serverUrl}/v1/realtime${query ? `?${query}` : ''}`;
}

/** A plain `ws` client of `/v1/realtime`: collects every event and lets a test wait for one. */
export class RealtimeClient {
  readonly events: RealtimeEvent[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  private readonly socket: WebSocket;
  private waiters: Array<() => void> = [];

  constructor(
    url: string,
    options: { headers?: Record<string, string>; protocols?: string[]; ca?: string } = {},
  ) {
    this.socket = new WebSocket(url, options.protocols ?? [], {
      headers: options.headers ?? {},
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('error', () => {});
    this.socket.on('message', (data: Buffer) => {
      this.events.push(JSON.parse(data.toString('utf8')) as RealtimeEvent);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      this.socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString('utf8') });
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
  }

  get protocol(): string {
    return this.socket.protocol;
  }

  /** Sends an event as JSON text, text as it is, and bytes as a binary message. */
  send(event: Record<string, unknown> | string | Uint8Array): void {
    this.socket.send(
      typeof event === 'string' || event instanceof Uint8Array ? event : JSON.stringify(event),
    );
  }

  /** Appends 24 kHz PCM16 in frames of `frameBytes`. */
  append(pcm: Uint8Array, frameBytes = 4800): void {
    for (let i = 0; i < pcm.length; i += frameBytes) {
      const frame = Buffer.from(pcm.subarray(i, Math.min(i + frameBytes, pcm.length)));
      this.send({ type: 'input_audio_buffer.append', audio: frame.toString('base64') });
    }
  }

  /** Waits for the `count`th event matching (1 = the first), or throws after `timeoutMs`. */
  async next(
    match: string | ((e: RealtimeEvent) => boolean),
    count = 1,
    timeoutMs = 10_000,
  ): Promise<RealtimeEvent> {
    const test = typeof match === 'string' ? (e: RealtimeEvent) => e.type === match : match;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.filter(test);
      if (found.length >= count) return found[count - 1]!;
      if (this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(`closed before ${String(match)}; got ${this.events.map((e) => e.type).join(', ')}`);
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no ${String(match)} within ${timeoutMs} ms; got ${this.events.map((e) => e.type).join(', ')}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  of(type: string): RealtimeEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  close(): void {
    this.socket.close();
  }
}

/** A transcription `session.update` (manual commits unless `vad`). */
export function sessionUpdate(vad: boolean, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'session.update',
    session: {
      type: 'transcription',
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          transcription: { model: 'gpt-4o-transcribe', language: 'en' },
          turn_detection: vad ? { type: 'server_vad', silence_duration_ms: 500 } : null,
          ...extra,
        },
      },
    },
  };
}
