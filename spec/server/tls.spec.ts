import { get } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { expectedSyntheticWords, syntheticPcm } from '../helpers/audio.js';
import { makeTestCertificate, type TestCertificate } from '../helpers/test-certificate.js';
import { CONFIG_16K, chunk, EOF, finalWords, runClient } from '../helpers/vosk-client.js';

describe('the reference server over TLS', () => {
  let certificate: TestCertificate;
  let server: RunningServer;
  beforeAll(async () => {
    certificate = makeTestCertificate();
    server = await startServer({
      port: 0,
      engine: 'synthetic',
      tls: { cert: certificate.cert, key: certificate.key },
    });
  });
  afterAll(async () => {
    await server?.close();
    certificate?.remove();
  });

  it('serves wss: to a client that trusts its certificate', async () => {
    expect(server.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const pcm = syntheticPcm(2);
    const run = await runClient(server.url, [CONFIG_16K, ...chunk(pcm, 3200), EOF], { ca: certificate.cert });
    expect(finalWords(run).map((w) => w.word)).toEqual(expectedSyntheticWords(pcm).map((w) => w.word));
  });

  it('refuses a client that does not trust it (no plain-text fallback)', async () => {
    const error = await new Promise<Error>((resolve) => {
      const socket = new WebSocket(server.url);
      socket.on('error', resolve);
    });
    expect(error.message).toMatch(/self[- ]signed|certificate/i);
    const plain = await runClient(server.url.replace('wss:', 'ws:'), [CONFIG_16K, EOF]);
    expect(plain).toMatchObject({ replies: [], closeCode: 1006 });
  });

  it('serves /metrics over https:', async () => {
    expect(server.metricsUrl).toMatch(/^https:/);
    const body = await new Promise<string>((resolve, reject) => {
      get(server.metricsUrl, { ca: certificate.cert }, (response) => {
        let text = '';
        response.on('data', (data: Buffer) => {
          text += data.toString();
        });
        response.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toMatch(/rxjs_transcribe_server_/);
  });
});
