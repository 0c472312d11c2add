/**
 * Client metrics for OpenTelemetry: `rxjs-transcribe/opentelemetry`. Needs
 * `@opentelemetry/api` (an optional peer dependency); a separate entry so the
 * main one never loads it.
 * @packageDocumentation
 */
export {
  type OpenTelemetrySink,
  type OpenTelemetrySinkOptions,
  openTelemetrySink,
} from './exporters/opentelemetry.js';
