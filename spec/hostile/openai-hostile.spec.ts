import { describe, expect, it } from 'vitest';
import type { AudioFormat } from '../../src/audio/audio-format.js';
import { type TranscribeOptions, transcribe } from '../../src/operators/transcribe.js';
import { type OpenAIRealtimeOptions, openaiRealtime } from '../../src/protocols/openai-realtime.js';
import { fromAsyncIterable } from '../../src/sources/from-async-iterable.js';
import type { TranscriptEvent } from '../../src/transcript-event.js';
import { syntheticPcm } from '../helpers/audio.js';
import {
  against,
  type HostileConnection,
  outcomeOf,
  type SessionOutcome,
} from '../helpers/hostile-server.js';

const RETRY = { maxRetries: 3, initialDelayMs: 5, maxDelayMs: 40, multiplier: 2, jitter: 'none' } as const;
const KEY = 'sk-openai-7c1d0e9b2a';
const MONO_24K: AudioFormat = { sampleRate: 24000, channels: 1, encoding: 'pcm_s16le' };
const AUDIO = syntheticPcm(2, 24000, 7);
const BYTES_PER_SECOND = 48000;

async function run(
  url: string,
  options: Partial<TranscribeOptions> = {},
  protocolOptions: OpenAIRealtimeOptions = {},
): Promise<SessionOutcome> {
  const t = transcribe({
    protocol: openaiRealtime({ apiKey: KEY, baseUrl: url, ...protocolOptions }),
    reconnect: RETRY,
    deadAfterMs: 150,
    connectTimeoutMs: 500,
    finalTimeoutMs: 2000,
    ...options,
  });
  return outcomeOf(t, fromAsyncIterable([AUDIO], MONO_24K), KEY);
}

const send = (connection: HostileConnection, event: Record<string, unknown> | string): void => {
  if (connection.socket.readyState !== connection.socket.OPEN) return;
  connection.socket.send(typeof event === 'string' ? event : JSON.stringify({ event_id: 'ev', ...event }));
};

interface OpenAIScript {
  /** What to send when second `n` (from 0) of this connection's audio is complete; default a VAD item `s{n}`. */
  readonly second?: (n: number, connection: HostileConnection, item: (text: string) => void) => void;
  /** What to do on the client's commit; default: an item of what is left, or commit_empty. */
  readonly commit?: (connection: HostileConnection, eventId: string) => void;
  /** Skip session.updated (a server that never says it is ready). */
  readonly neverReady?: boolean;
}

/** An OpenAI-like server: session.created, session.updated, a VAD item per second of audio. */
function openaiLike(script: OpenAIScript = {}): (connection: HostileConnection) => void {
  return (connection) => {
    let bytes = 0;
    let last: string | null = null;
    let items = 0;
    let itemEndMs = 0;
    const item = (text: string): void => {
      const id = `item_${connection.index}_${++items}`;
      const endMs = Math.round((bytes / BYTES_PER_SECOND) * 1000);
      send(connection, { type: 'input_audio_buffer.speech_started', item_id: id, audio_start_ms: itemEndMs });
      send(connection, { type: 'input_audio_buffer.speech_stopped', item_id: id, audio_end_ms: endMs });
      send(connection, { type: 'input_audio_buffer.committed', item_id: id, previous_item_id: last });
      send(connection, {
        type: 'conversation.item.input_audio_transcription.delta',
        item_id: id,
        delta: text,
      });
      send(connection, {
        type: 'conversation.item.input_audio_transcription.completed',
        item_id: id,
        transcript: text,
      });
      last = id;
      itemEndMs = endMs;
    };
    send(connection, { type: 'session.created', session: { type: 'transcription' } });
    connection.socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string; audio?: string; event_id?: string };
      if (message.type === 'session.update') {
        if (script.neverReady !== true) send(connection, { type: 'session.updated', session: {} });
      } else if (message.type === 'input_audio_buffer.append') {
        const before = Math.floor(bytes / BYTES_PER_SECOND);
        bytes += Buffer.from(message.audio ?? '', 'base64').length;
        for (let s = before; s < Math.floor(bytes / BYTES_PER_SECOND); s++) {
          if (script.second) script.second(s, connection, item);
          else item(`s${s}`);
        }
      } else if (message.type === 'input_audio_buffer.commit') {
        if (script.commit) script.commit(connection, message.event_id ?? '');
        else if (Math.round((bytes / BYTES_PER_SECOND) * 1000) - itemEndMs >= 100) item('tail');
        else {
          send(connection, {
            type: 'error',
            error: {
              type: 'invalid_request_error',
              code: 'input_audio_buffer_commit_empty',
              message: 'buffer too small',
              param: null,
              event_id: message.event_id ?? null,
            },
          });
        }
      }
    });
  };
}

const finalTexts = (events: TranscriptEvent[]) => events.filter((e) => e.type === 'final').map((e) => e.text);

describe('OpenAI Realtime: a well-behaved server first (the baseline of the cases below)', () => {
  it('two seconds, two items, a clean end closed by the client', async () => {
    await against(openaiLike(), async (server) => {
      const outcome = await run(server.url);
      expect(outcome.error).toBeUndefined();
      expect(finalTexts(outcome.events)).toEqual(['s0', 's1']);
      expect(outcome.statuses.at(-1)).toMatchObject({ state: 'closed', code: 1000 });
    });
  });
});

describe('OpenAI Realtime: after the last completion', () => {
  it('events that follow it (the server keeps the session open) change nothing: the client has closed', async () => {
    await against(
      openaiLike({
        commit: (c) => {
          send(c, {
            type: 'error',
            error: {
              type: 'invalid_request_error',
              code: 'input_audio_buffer_commit_empty',
              message: 'empty',
              event_id: 'rxjs_commit_1',
            },
          });
          // What a live server may still send: the session's expiry, a later item's events.
          send(c, {
            type: 'error',
            error: { type: 'invalid_request_error', code: 'session_expired', message: 'expired' },
          });
          send(c, 'not json at all');
        },
      }),
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toBeUndefined();
        expect(finalTexts(outcome.events)).toEqual(['s0', 's1']);
        expect(outcome.statuses.at(-1)).toMatchObject({ state: 'closed', code: 1000 });
        expect(server.connections).toBe(1);
      },
    );
  });
});

describe('OpenAI Realtime: a server that accepts and drops every connection, retries run out', () => {
  const drops: Array<[string, (c: HostileConnection) => void, { kind: string; closeCode?: number }]> = [
    [
      'closes 1011 at once',
      ({ socket }) => socket.close(1011, 'internal'),
      { kind: 'server', closeCode: 1011 },
    ],
    [
      'drops the TCP connection (1006)',
      ({ socket }) => socket.terminate(),
      { kind: 'network', closeCode: 1006 },
    ],
    [
      'closes 1000 at the first append',
      (c) => {
        openaiLike()(c);
        c.socket.on('message', (d: Buffer) => d.toString().includes('append') && c.socket.close(1000));
      },
      { kind: 'server', closeCode: 1000 },
    ],
    ['never sends session.updated', openaiLike({ neverReady: true }), { kind: 'timeout' }],
  ];
  for (const [name, behave, expected] of drops) {
    it(`${name}: ${RETRY.maxRetries + 1} connections, then a retryable ${expected.kind} error`, async () => {
      await against(behave, async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ ...expected, retryable: true });
        expect(outcome.error?.message).toMatch(/gave up after 4 connections that made no progress/);
        expect(server.connections).toBe(RETRY.maxRetries + 1);
        expect(outcome.events).toEqual([]);
      });
    });
  }
});

describe('OpenAI Realtime: refused keys, in its own words', () => {
  it('an invalid_api_key error then close 3000 (what OpenAI does): auth, not retried, the key nowhere', async () => {
    await against(
      (c) => {
        send(c, {
          type: 'error',
          error: {
            type: 'invalid_request_error',
            code: 'invalid_api_key',
            message: 'Incorrect API key provided: sk-op***9b2a.',
          },
        });
        c.socket.close(3000, 'invalid_request_error.invalid_api_key');
      },
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'auth', retryable: false });
        expect(outcome.error?.message).toMatch(/refused the credentials/);
        expect(server.connections).toBe(1);
      },
    );
  });

  it('HTTP 401 with an OpenAI error body: auth, not retried, its message shown', async () => {
    const body =
      '{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}';
    await against(
      openaiLike(),
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'auth', retryable: false, httpStatus: 401 });
        expect(outcome.error?.message).toContain('OpenAI says: Incorrect API key provided.');
        expect(server.handshakes).toBe(1);
      },
      {
        refuse: () =>
          `HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      },
    );
  });
});

describe('OpenAI Realtime: malformed and contradictory servers get a protocol error, not retried', () => {
  const bad: Array<[string, OpenAIScript, RegExp]> = [
    ['not JSON', { second: (_n, c) => send(c, '{"type": "input_audio_buffer.comm') }, /not JSON/],
    [
      'a completion for an item never committed',
      {
        second: (_n, c) =>
          send(c, {
            type: 'conversation.item.input_audio_transcription.completed',
            item_id: 'ghost',
            transcript: 'boo',
          }),
      },
      /never committed/,
    ],
    [
      'a delta after its item completed',
      {
        second: (n, c, item) => {
          item(`s${n}`);
          send(c, {
            type: 'conversation.item.input_audio_transcription.delta',
            item_id: `item_${c.index}_1`,
            delta: 'late',
          });
        },
      },
      /after its completion/,
    ],
    [
      'an item committed twice',
      {
        second: (_n, c) => {
          send(c, { type: 'input_audio_buffer.committed', item_id: 'dup', previous_item_id: null });
          send(c, { type: 'input_audio_buffer.committed', item_id: 'dup', previous_item_id: null });
        },
      },
      /committed twice/,
    ],
    [
      'a span past the audio sent',
      {
        second: (_n, c) => {
          send(c, { type: 'input_audio_buffer.speech_stopped', item_id: 'far', audio_end_ms: 60_000 });
          send(c, { type: 'input_audio_buffer.committed', item_id: 'far', previous_item_id: null });
          send(c, {
            type: 'conversation.item.input_audio_transcription.completed',
            item_id: 'far',
            transcript: 'x',
          });
        },
      },
      /past the/,
    ],
  ];
  for (const [name, script, pattern] of bad) {
    it(name, async () => {
      await against(openaiLike(script), async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toMatchObject({ kind: 'protocol', retryable: false });
        expect(outcome.error?.message).toMatch(pattern);
        expect(server.connections).toBe(1);
      });
    });
  }
});

describe('OpenAI Realtime: errors mid-stream', () => {
  it('a server_error then close on the first connection: retried, and the second gives every word once', async () => {
    await against(
      (c) => {
        if (c.index === 0) {
          openaiLike({
            second: (n, conn, item) => {
              item(`c0s${n}`);
              send(conn, {
                type: 'error',
                error: { type: 'server_error', code: null, message: 'The server had an error.' },
              });
              conn.socket.close(1011);
            },
          })(c);
        } else openaiLike({ second: (n, conn, item) => item(`c${conn.index}s${n}`) })(c);
      },
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toBeUndefined();
        // The second connection starts where the first item ended: its second 0 is the audio's second 1.
        expect(finalTexts(outcome.events)).toEqual(['c0s0', 'c1s0']);
        expect(server.connections).toBe(2);
      },
    );
  });

  it('session_expired mid-stream: a new connection resends the unfinalised second, no word doubled', async () => {
    await against(
      (c) => {
        openaiLike({
          second: (n, conn, item) => {
            item(`c${conn.index}s${n}`);
            if (conn.index === 0) {
              send(conn, {
                type: 'error',
                error: {
                  type: 'invalid_request_error',
                  code: 'session_expired',
                  message: 'Your session hit the maximum duration of 60 minutes.',
                },
              });
              conn.socket.close(1000);
            }
          },
        })(c);
      },
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toBeUndefined();
        // The first second was finalised on the first connection; the second connection starts after it.
        expect(finalTexts(outcome.events)).toEqual(['c0s0', 'c1s0']);
        const lost = outcome.statuses.filter((s) => s.state === 'reconnecting');
        expect(lost).toHaveLength(1);
        expect(lost[0]!.state === 'reconnecting' && lost[0]!.error.message).toMatch(/session_expired/);
      },
    );
  });

  it('completions out of order: the finals still come in commit order', async () => {
    await against(
      (c) => {
        let held: string | undefined;
        let last: string | null = null;
        let n = 0;
        let bytes = 0;
        send(c, { type: 'session.created', session: {} });
        c.socket.on('message', (data: Buffer) => {
          const message = JSON.parse(data.toString()) as { type: string; audio?: string; event_id?: string };
          if (message.type === 'session.update') send(c, { type: 'session.updated', session: {} });
          if (message.type === 'input_audio_buffer.append') {
            const before = Math.floor(bytes / BYTES_PER_SECOND);
            bytes += Buffer.from(message.audio ?? '', 'base64').length;
            if (Math.floor(bytes / BYTES_PER_SECOND) === before) return;
            const id = `i${++n}`;
            send(c, { type: 'input_audio_buffer.speech_stopped', item_id: id, audio_end_ms: n * 1000 });
            send(c, { type: 'input_audio_buffer.committed', item_id: id, previous_item_id: last });
            last = id;
            if (held === undefined) held = id;
            else {
              send(c, {
                type: 'conversation.item.input_audio_transcription.completed',
                item_id: id,
                transcript: `t${n}`,
              });
              send(c, {
                type: 'conversation.item.input_audio_transcription.completed',
                item_id: held,
                transcript: `t${n - 1}`,
              });
            }
          }
          if (message.type === 'input_audio_buffer.commit') {
            send(c, {
              type: 'error',
              error: {
                type: 'invalid_request_error',
                code: 'input_audio_buffer_commit_empty',
                message: 'empty',
                event_id: message.event_id,
              },
            });
          }
        });
      },
      async (server) => {
        const outcome = await run(server.url);
        expect(outcome.error).toBeUndefined();
        expect(finalTexts(outcome.events)).toEqual(['t1', 't2']);
      },
    );
  });
});
