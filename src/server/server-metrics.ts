import { Counter, Gauge, Registry } from 'prom-client';
import { classifyCloseCode } from '../errors/close-codes.js';

/**
 * The reference server's metrics in Prometheus terms (seconds, `_total`), on a
 * registry of its own: nothing is registered globally, and no default
 * process metrics are collected.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly sessions = new Gauge({
    name: 'rxjs_transcribe_server_sessions',
    help: 'Sessions open now.',
    registers: [this.registry],
  });
  private readonly sessionsTotal = new Counter({
    name: 'rxjs_transcribe_server_sessions_total',
    help: 'Sessions opened since the server started.',
    registers: [this.registry],
  });
  private readonly audio = new Counter({
    name: 'rxjs_transcribe_server_audio_seconds_total',
    help: 'Seconds of audio handed to engines.',
    registers: [this.registry],
  });
  private readonly engine = new Counter({
    name: 'rxjs_transcribe_server_engine_seconds_total',
    help: 'Wall-clock seconds spent waiting on engines for replies.',
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'rxjs_transcribe_server_errors_total',
    help: 'Sessions closed with an error, by kind (the close code classified as the client does).',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  constructor(engineName: string) {
    const audio = this.audio;
    const engine = this.engine;
    new Gauge({
      name: 'rxjs_transcribe_server_real_time_factor',
      help: 'Engine seconds per second of audio since start (below 1: faster than real time).',
      labelNames: ['engine'],
      registers: [this.registry],
      async collect() {
        const audioSeconds = (await audio.get()).values[0]?.value ?? 0;
        const engineSeconds = (await engine.get()).values[0]?.value ?? 0;
        this.set({ engine: engineName }, audioSeconds > 0 ? engineSeconds / audioSeconds : 0);
      },
    });
  }

  sessionOpened(): void {
    this.sessions.inc();
    this.sessionsTotal.inc();
  }

  sessionClosed(): void {
    this.sessions.dec();
  }

  audioConsumed(seconds: number): void {
    if (seconds > 0) this.audio.inc(seconds);
  }

  engineTime(seconds: number): void {
    if (seconds > 0) this.engine.inc(seconds);
  }

  closedWithError(code: number): void {
    this.errors.inc({ kind: classifyCloseCode(code).kind });
  }

  /** The Prometheus text exposition, and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
