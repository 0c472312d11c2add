/**
 * Client metrics for Prometheus (prom-client): `rxjs-transcribe/prometheus`.
 * A separate entry so that the main one never pulls prom-client in.
 * @packageDocumentation
 */
export { type PrometheusSink, type PrometheusSinkOptions, prometheusSink } from './exporters/prometheus.js';
