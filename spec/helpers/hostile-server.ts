import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { lastValueFrom, type Observable, tap, toArray } from 'rxjs';
import { expect } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AudioChunk } from '../../src/audio/audio-format.js';
import type { TranscriptionError } from '../../src/errors/transcription-error.js';
import type { TranscribeOperator } from '../../src/operators/transcribe.js';
import type { SessionStatus } from '../../src/session/session-status.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { activeResources, eventually } from './resources.js';

/** One connection to a hostile server, as its behaviour sees it. */
export interface HostileConnection {
  readonly socket: WebSocket;
  /** 0 for the first connection to the server, counted up. */
  readonly index: number;
  readonly request: IncomingMessage;
}

export interface HostileServer {
  readonly url: string;
  /** WebSocket connections accepted so far (handshakes answered by `refuse` are not among them). */
  readonly connections: number;
  /** Handshakes seen, accepted or refused. */
  readonly handshakes: number;
  close(): Promise<void>;
}

export interface HostileOptions {
  /**
   * Answers the handshake itself when it returns a raw HTTP response (e.g.
   * "HTTP/1.1 429 ...\r\n\r\n"); undefined lets the WebSocket upgrade go on.
   */
  readonly refuse?: (handshake: number) => string | undefined;
}

/**
 * A WebSocket server on loopback that misbehaves as `behave` says, once per
 * connection: the one small fake server of each hostile-server test.
 */
export async function hostileServer(
  behave: (connection: HostileConnection) => void,
  options: HostileOptions = {},
): Promise<HostileServer> {
  const http = createServer();
  const wss = new WebSocketServer({ noServer: true });
  let connections = 0;
  let handshakes = 0;
  http.on('upgrade', (request, socket: Socket, head) => {
    const refusal = options.refuse?.(handshakes++);
    if (refusal !== undefined) {
      socket.end(refusal);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const index = connections++;
      behave({ socket: ws, index, request });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`,
    get connections() {
      return connections;
    },
    get handshakes() {
      return handshakes;
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** What a Vosk server replies to each message: a partial per audio frame, a final to EOF (then 1000). */
export interface VoskScript {
  /** The reply to the n-th audio frame of the connection (1-based); default `{"partial": ""}`. */
  readonly audio?: (n: number, connection: HostileConnection) => string | readonly string[] | undefined;
  /** The reply to EOF; default `{"text": ""}`. */
  readonly eof?: (connection: HostileConnection) => string | readonly string[] | undefined;
  /** Close after the EOF's reply (default true, with 1000, as Vosk does). */
  readonly closeAfterEof?: boolean;
}

/** A behaviour that speaks the Vosk protocol as `script` says. */
export function voskLike(script: VoskScript = {}): (connection: HostileConnection) => void {
  return (connection) => {
    let frames = 0;
    const send = (reply: string | readonly string[] | undefined): void => {
      if (reply === undefined || connection.socket.readyState !== connection.socket.OPEN) return;
      for (const text of typeof reply === 'string' ? [reply] : reply) connection.socket.send(text);
    };
    connection.socket.on('message', (data, isBinary) => {
      if (isBinary) {
        frames += 1;
        send(script.audio ? script.audio(frames, connection) : '{"partial": ""}');
        return;
      }
      const text = data.toString();
      if (!text.includes('"eof"')) return; // the config
      send(script.eof ? script.eof(connection) : '{"text": ""}');
      if (script.closeAfterEof ?? true) connection.socket.close(1000);
    });
  };
}

/** Runs `test` against a hostile server, then checks sockets and timers are back where they were. */
export async function against(
  behave: (connection: HostileConnection) => void,
  test: (server: HostileServer) => Promise<void>,
  options?: HostileOptions,
): Promise<void> {
  const before = activeResources();
  const server = await hostileServer(behave, options);
  try {
    await test(server);
  } finally {
    await server.close();
  }
  await eventually(() => {
    const now = activeResources();
    for (const name of ['TCPSocketWrap', 'TCPServerWrap', 'Timeout']) {
      expect(now[name] ?? 0, name).toBeLessThanOrEqual(before[name] ?? 0);
    }
  });
}

/** What a session against a hostile server gave: its events, the error it ended with, its statuses. */
export interface SessionOutcome {
  readonly events: TranscriptEvent[];
  readonly error: TranscriptionError | undefined;
  readonly statuses: SessionStatus[];
}

/**
 * Runs `source` through the `transcribe` operator `t` to its end, collecting what it said,
 * and checks that `secret` (the API key) is in none of its statuses or its error.
 */
export async function outcomeOf(
  t: TranscribeOperator,
  source: Observable<AudioChunk>,
  secret: string,
): Promise<SessionOutcome> {
  const statuses: SessionStatus[] = [];
  const events: TranscriptEvent[] = [];
  const watching = t.status$.subscribe((s) => statuses.push(s));
  let error: TranscriptionError | undefined;
  try {
    await lastValueFrom(
      source.pipe(
        t,
        tap((event) => events.push(event)),
        toArray(),
      ),
    );
  } catch (thrown) {
    error = thrown as TranscriptionError;
  }
  watching.unsubscribe();
  // No key in anything the session said.
  expect(JSON.stringify(statuses)).not.toContain(secret);
  expect(String(error?.message)).not.toContain(secret);
  return { events, error, statuses };
}
