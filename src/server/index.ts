/**
 * The reference speech-to-text server (Node only): `rxjs-transcribe/server`.
 * Kept out of the main entry so that browser bundles never pull it in.
 * @packageDocumentation
 */
export { type ClientMessage, CloseCode, parseClientMessage } from './client-message.js';
export {
  type Engine,
  EngineFailure,
  type EngineSession,
  type EngineSessionOptions,
} from './engines/engine.js';
export { type PocketsphinxEngineOptions, pocketsphinxEngine } from './engines/pocketsphinx.js';
export {
  POCKETSPHINX_APT_LINE,
  POCKETSPHINX_PACKAGES,
  pocketsphinxBinary,
} from './engines/pocketsphinx-binary.js';
export { syntheticEngine } from './engines/synthetic.js';
export { RealtimePacer } from './realtime-pacer.js';
export {
  type EngineName,
  type RunningServer,
  type ServerOptions,
  type ServerStats,
  startServer,
} from './start-server.js';
