import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiRealtime } from '../../src/protocols/openai-realtime.js';
import type { TranscriptionSessionShape } from '../../src/server/openai/session-config.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { expectedSyntheticWords, syntheticPcm } from '../helpers/audio.js';
import { RealtimeClient, realtimeUrl, sessionUpdate } from '../helpers/openai-client.js';

/**
 * The `/v1/realtime?intent=transcription` emulator spoken to by a plain `ws`
 * client, in OpenAI's message shapes. The synthetic engine takes 24 kHz as it
 * is, so its words are computed here from the bytes sent.
 */

const RATE = 24000;
const words = (pcm: Uint8Array): string[] => expectedSyntheticWords(pcm, RATE).map((w) => w.word);

describe('OpenAI Realtime emulator, synthetic engine', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, engine: 'synthetic' });
  });
  afterAll(async () => {
    await server.close();
  });

  async function open(): Promise<RealtimeClient> {
    const client = new RealtimeClient(realtimeUrl(server.url));
    await client.opened;
    return client;
  }

  it('sends session.created first and answers session.update with the effective session', async () => {
    const client = await open();
    const created = await client.next('session.created');
    expect(client.events[0]).toBe(created);
    const session = created.session as TranscriptionSessionShape;
    expect(session.type).toBe('transcription');
    expect(session.audio.input.format).toEqual({ type: 'audio/pcm', rate: 24000 });
    expect(session.audio.input.turn_detection?.type).toBe('server_vad');
    client.send(sessionUpdate(false, { noise_reduction: { type: 'far_field' } }));
    const updated = (await client.next('session.updated')).session as TranscriptionSessionShape;
    expect(updated.audio.input.turn_detection).toBeNull();
    expect(updated.audio.input.noise_reduction).toEqual({ type: 'far_field' });
    expect(updated.audio.input.transcription).toEqual({ model: 'gpt-4o-transcribe', language: 'en' });
    expect(updated.id).toBe(session.id);
    client.close();
    await client.closed;
  });

  it('refuses a rate other than 24 kHz with an invalid_value error, and stays open', async () => {
    const client = await open();
    client.send({
      type: 'session.update',
      event_id: 'evt_rate',
      session: { type: 'transcription', audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } } },
    });
    const error = (await client.next('error')).error as Record<string, unknown>;
    expect(error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_value',
      param: 'session.audio.input.format.rate',
      event_id: 'evt_rate',
    });
    client.send(sessionUpdate(false));
    await client.next('session.updated');
    client.close();
    await client.closed;
  });

  it('commits by hand: one item per commit, deltas then completed, items chained by previous_item_id', async () => {
    const client = await open();
    client.send(sessionUpdate(false));
    await client.next('session.updated');
    const first = syntheticPcm(2.5, RATE, 3);
    const second = syntheticPcm(1.2, RATE, 4);
    client.append(first);
    client.send({ type: 'input_audio_buffer.commit' });
    client.append(second);
    client.send({ type: 'input_audio_buffer.commit' });
    const done = await client.next('conversation.item.input_audio_transcription.completed', 2);
    const committed = client.of('input_audio_buffer.committed');
    expect(committed).toHaveLength(2);
    expect(committed[0]!.previous_item_id).toBeNull();
    expect(committed[1]!.previous_item_id).toBe(committed[0]!.item_id);
    const completed = client.of('conversation.item.input_audio_transcription.completed');
    expect(completed[0]!.transcript).toBe(words(first).join(' '));
    expect(done.transcript).toBe(words(second).join(' '));
    expect(done.item_id).toBe(committed[1]!.item_id);
    // The deltas of an item add up to its transcript, and come before its completion.
    for (const item of completed) {
      const deltas = client.events.filter(
        (e) => e.type === 'conversation.item.input_audio_transcription.delta' && e.item_id === item.item_id,
      );
      expect(deltas.map((d) => d.delta).join('')).toBe(item.transcript);
      expect(client.events.indexOf(deltas.at(-1)!)).toBeLessThan(client.events.indexOf(item));
    }
    // No VAD events without turn detection.
    expect(client.of('input_audio_buffer.speech_started')).toEqual([]);
    client.close();
    await client.closed;
  });

  it('refuses a commit of under 100 ms (input_audio_buffer_commit_empty), echoing its event_id', async () => {
    const client = await open();
    client.send(sessionUpdate(false));
    client.append(syntheticPcm(0.05, RATE));
    client.send({ type: 'input_audio_buffer.commit', event_id: 'evt_commit' });
    const error = (await client.next('error')).error as Record<string, unknown>;
    expect(error).toMatchObject({ code: 'input_audio_buffer_commit_empty', event_id: 'evt_commit' });
    expect(String(error.message)).toMatch(/at least 100ms/);
    client.close();
    await client.closed;
  });

  it('with server VAD, commits an item at each of the engine’s finals, with speech_started/stopped spans', async () => {
    const client = await open();
    client.send(sessionUpdate(true));
    await client.next('session.updated');
    const pcm = syntheticPcm(3.5, RATE, 5);
    client.append(pcm);
    client.send({ type: 'input_audio_buffer.commit' });
    await client.next('conversation.item.input_audio_transcription.completed', 4);
    const started = client.of('input_audio_buffer.speech_started');
    const stopped = client.of('input_audio_buffer.speech_stopped');
    const committed = client.of('input_audio_buffer.committed');
    const completed = client.of('conversation.item.input_audio_transcription.completed');
    expect(completed.map((c) => c.transcript)).toEqual(words(pcm));
    // Three VAD items (one per full second), the last half second by the client's commit.
    expect(stopped.map((s) => s.audio_end_ms)).toEqual([1000, 2000, 3000]);
    expect(started.map((s) => s.item_id)).toEqual(stopped.map((s) => s.item_id));
    for (let i = 0; i < started.length; i++) {
      expect(started[i]!.audio_start_ms as number).toBeLessThan(stopped[i]!.audio_end_ms as number);
      expect(started[i]!.audio_start_ms as number).toBeGreaterThanOrEqual(
        i === 0 ? 0 : (stopped[i - 1]!.audio_end_ms as number),
      );
    }
    expect(committed.map((c) => c.item_id)).toEqual(completed.map((c) => c.item_id));
    for (let i = 1; i < committed.length; i++)
      expect(committed[i]!.previous_item_id).toBe(committed[i - 1]!.item_id);
    client.close();
    await client.closed;
  });

  it('clears the buffer: the cleared audio is in no transcript', async () => {
    const client = await open();
    client.send(sessionUpdate(false));
    const dropped = syntheticPcm(1.5, RATE, 6);
    const kept = syntheticPcm(1.5, RATE, 7);
    client.append(dropped);
    client.send({ type: 'input_audio_buffer.clear' });
    client.append(kept);
    client.send({ type: 'input_audio_buffer.commit' });
    const done = await client.next('conversation.item.input_audio_transcription.completed');
    expect(client.of('input_audio_buffer.cleared')).toHaveLength(1);
    expect(done.transcript).toBe(words(kept).join(' '));
    client.close();
    await client.closed;
  });

  it('answers bad events with OpenAI errors and goes on: not JSON, no type, unknown type, bad base64, binary', async () => {
    const client = await open();
    client.send('{not json');
    client.send({ audio: 'AAAA' });
    client.send({ type: 'response.create' });
    client.send({ type: 'input_audio_buffer.append', audio: '***not base64***', event_id: 'evt_b64' });
    client.send({ type: 'input_audio_buffer.append' });
    client.send(Buffer.from([1, 2, 3, 4]));
    await client.next('error', 6);
    const codes = client.of('error').map((e) => (e.error as Record<string, unknown>).code);
    expect(codes).toEqual([
      'invalid_json',
      'missing_required_parameter',
      'invalid_value',
      'invalid_value',
      'missing_required_parameter',
      'invalid_request_error',
    ]);
    expect((client.of('error')[3]!.error as Record<string, unknown>).event_id).toBe('evt_b64');
    client.send(sessionUpdate(false));
    await client.next('session.updated');
    client.close();
    expect((await client.closed).code).toBe(1005);
  });

  it('refuses an upgrade without intent=transcription with HTTP 400', async () => {
    const client = new RealtimeClient(realtimeUrl(server.url, 'model=gpt-realtime'));
    await expect(client.opened).rejects.toThrow(/400/);
  });
});

describe('OpenAI Realtime emulator: session limit', () => {
  it('sends session_expired at the limit, then closes', async () => {
    const server = await startServer({ port: 0, engine: 'synthetic', openai: { sessionLimitMs: 300 } });
    try {
      const client = new RealtimeClient(realtimeUrl(server.url));
      await client.opened;
      const error = (await client.next('error')).error as Record<string, unknown>;
      expect(error).toMatchObject({ type: 'invalid_request_error', code: 'session_expired' });
      expect((await client.closed).code).toBe(1000);
      await expect.poll(() => server.stats().sessions).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('OpenAI Realtime emulator: keys', () => {
  const KEY = 'sk-test-openai-key';
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, engine: 'synthetic', apiKeys: [KEY] });
  });
  afterAll(async () => {
    await server.close();
  });

  it('takes Authorization: Bearer KEY', async () => {
    const client = new RealtimeClient(realtimeUrl(server.url), {
      headers: { Authorization: `Bearer ${KEY}` },
    });
    await client.next('session.created');
    client.close();
    await client.closed;
  });

  it('refuses another key as OpenAI does: an invalid_api_key error, then close 3000, the key never echoed', async () => {
    const client = new RealtimeClient(realtimeUrl(server.url), {
      headers: { Authorization: 'Bearer sk-wrong-key' },
    });
    const { code, reason } = await client.closed;
    expect(code).toBe(3000);
    expect(reason).toBe('invalid_request_error.invalid_api_key');
    expect(client.events.map((e) => e.type)).toEqual(['error']);
    expect((client.events[0]!.error as Record<string, unknown>).code).toBe('invalid_api_key');
    expect(JSON.stringify(client.events)).not.toContain('sk-wrong-key');
  });

  it('mints an ephemeral key that opens a session in the browser way (realtime subprotocol selected)', async () => {
    const base = server.url.replace(/^ws/, 'http');
    const refused = await fetch(`${base}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-wrong-key', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(401);
    const minted = await fetch(`${base}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        expires_after: { anchor: 'created_at', seconds: 60 },
        session: { type: 'transcription' },
      }),
    });
    expect(minted.status).toBe(200);
    const body = (await minted.json()) as { value: string; expires_at: number; session: { type: string } };
    expect(body.value).toMatch(/^ek_/);
    expect(body.session.type).toBe('transcription');
    expect(body.expires_at).toBeGreaterThan(Date.now() / 1000 + 50);
    const client = new RealtimeClient(realtimeUrl(server.url), {
      protocols: ['realtime', `openai-insecure-api-key.${body.value}`],
    });
    await client.next('session.created');
    expect(client.protocol).toBe('realtime');
    client.close();
    await client.closed;
    // The library's own browser handshake (subprotocols, no headers) opens a session with it too.
    const handshake = openaiRealtime({ clientSecret: body.value }).handshake!({
      url: server.url,
      headersAllowed: false,
    });
    expect(handshake.headers).toBeUndefined();
    const browser = new RealtimeClient(handshake.url, { protocols: [...(handshake.protocols ?? [])] });
    await browser.next('session.created');
    expect(browser.protocol).toBe('realtime');
    browser.close();
    await browser.closed;
    // An ephemeral key cannot mint another.
    const again = await fetch(`${base}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${body.value}` },
    });
    expect(again.status).toBe(401);
  });
});
