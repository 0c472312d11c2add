/**
 * rxjs-transcribe: streaming speech-to-text for RxJS.
 *
 * ```ts
 * fromFile('meeting.wav')
 *   .pipe(transcribe({ url: 'ws://localhost:2700' }))
 *   .subscribe((event) => console.log(event.type, event.text));
 * ```
 *
 * The reference server lives under `rxjs-transcribe/server` (Node only).
 * @packageDocumentation
 */
export {
  type AudioChunk,
  type AudioFormat,
  type AudioFrame,
  bytesPerSample,
  describeFormat,
  frameCount,
  framesToMs,
  PCM16_16K_MONO,
  type SampleEncoding,
  type Samples,
} from './audio/audio-format.js';
export { decodePcmBytes, encodePcmBytes, PcmByteDecoder } from './audio/pcm-bytes.js';
export { downmixInt16, downmixToFloat, floatToInt16, int16ToFloat } from './audio/pcm-convert.js';
export { Resampler, type ResamplerOptions } from './audio/resampler.js';
export { SampleRing } from './audio/sample-ring.js';
export {
  describeWavFormat,
  looksLikeRiff,
  parseWavHeader,
  type WavFormat,
  type WavHeaderParse,
  wavFormatName,
} from './audio/wav-header.js';
export { audioFormatOfWav, WavStreamReader } from './audio/wav-stream.js';
export type { AudioInput, AudioInputOptions, BlobLike } from './doors/audio-input.js';
export {
  type FinalEvent,
  isFinal,
  type TranscribeFileOptions,
  type Transcript,
  transcribeFile,
} from './doors/transcribe-file.js';
export {
  type TranscribeStreamOptions,
  type TranscriptStream,
  transcribeStream,
} from './doors/transcribe-stream.js';
export {
  TranscriptionStream,
  type TranscriptionStreamInput,
  type TranscriptionStreamOptions,
} from './doors/transcription-stream.js';
export {
  CLOSE_CODE_CLASSES,
  type CloseCodeClass,
  classifyCloseCode,
  closeError,
} from './errors/close-codes.js';
export { type RedactionOptions, redactUrl } from './errors/redact.js';
export {
  isTranscriptionError,
  TranscriptionError,
  type TranscriptionErrorKind,
  type TranscriptionErrorOptions,
} from './errors/transcription-error.js';
export { Demand } from './flow/demand.js';
export { type FlowSnapshot, FlowStats } from './flow/flow-stats.js';
export {
  claimUpstreamDemand,
  type DemandClaim,
  findUpstreamLink,
  type SourceNotice,
  type UpstreamLink,
  withUpstreamLink,
} from './flow/upstream-link.js';
export { circuitBreaker } from './operators/circuit-breaker.js';
export { type ControlledOptions, controlled, type OverflowPolicy } from './operators/controlled.js';
export { decodePcm } from './operators/decode-pcm.js';
export { type FramesOptions, frames, samplesPerFrame } from './operators/frames.js';
export { type PacedOptions, paced } from './operators/paced.js';
export {
  type BackoffSchedule,
  backoffDelay,
  type Jitter,
  type RetryBackoffOptions,
  type RetryInfo,
  retryBackoff,
} from './operators/retry-backoff.js';
export { type ToPcm16Options, toPcm16 } from './operators/to-pcm16.js';
export {
  type ReconnectOptions,
  type TranscribeLogger,
  type TranscribeOperator,
  type TranscribeOptions,
  type TranscribeStats,
  type TranscriptionSessionHandle,
  transcribe,
} from './operators/transcribe.js';
export { type AssemblyAIOptions, type AssemblyAIQueryValue, assemblyai } from './protocols/assemblyai.js';
export { type DeepgramOptions, deepgram, type QueryValue } from './protocols/deepgram.js';
export {
  type OpenAIRealtimeOptions,
  type OpenAISemanticVad,
  type OpenAIServerVad,
  openaiRealtime,
} from './protocols/openai-realtime.js';
export type {
  DecodedMessage,
  Handshake,
  HandshakeContext,
  ProtocolCodec,
  ProtocolResult,
  RefusalClass,
  TranscriptionProtocol,
} from './protocols/protocol.js';
export { RESULT_TIME_SLACK_MS } from './protocols/protocol.js';
export { VOSK_EOF, type VoskOptions, vosk } from './protocols/vosk.js';
export {
  type BreakerState,
  type BreakerStrategy,
  type BreakerTicket,
  CircuitBreaker,
  type CircuitBreakerOptions,
} from './resilience/circuit-breaker.js';
export {
  FINAL_LATENCY_BUCKETS_MS,
  type LatencyHistogram,
  type SessionMetrics,
} from './session/session-metrics.js';
export type { SessionStatus, SessionStatusUpdate } from './session/session-status.js';
export {
  type AlertEvent,
  type AlertRule,
  alerts,
  defaultAlertRules,
  dropAlert,
  heapGrowthAlert,
  lagAlert,
  reconnectStormAlert,
} from './sinks/alerts.js';
export {
  formatSrt,
  formatSrtCue,
  formatVtt,
  formatVttCue,
  type SubtitleCue,
  type SubtitleOptions,
  subtitleCues,
  VTT_HEADER,
} from './sinks/subtitles.js';
export { type SourceFormat, wavOrRaw } from './sources/byte-source.js';
export { type ByteLike, fromAsyncIterable } from './sources/from-async-iterable.js';
export { type FromFileOptions, fromFile } from './sources/from-file.js';
export {
  type FromMicrophoneOptions,
  fromMicrophone,
  type MicrophoneSource,
  type MicrophoneStats,
} from './sources/from-microphone.js';
export { fromReadable, type NodeReadableLike } from './sources/from-readable.js';
export { fromReadableStream } from './sources/from-readable-stream.js';
export {
  isMicrophoneError,
  MicrophoneError,
  type MicrophoneErrorReason,
} from './sources/microphone-error.js';
export type { FrameLevel } from './sources/microphone-framer.js';
export type { TranscriptEvent, TranscriptWord } from './transcript-event.js';
export { browserSocketFactory } from './transport/browser-socket.js';
// The platform's own: `ws` in Node, the standard WebSocket in browsers. For wrapping (instrumentation, tests).
export { defaultSocketFactory } from './transport/default-socket.js';
export type {
  SocketDriver,
  SocketFactory,
  SocketHandlers,
  SocketOptions,
  WireMessage,
} from './transport/socket-driver.js';
export {
  type Connection,
  type ConnectOptions,
  connect,
  type TransportEvent,
} from './transport/websocket-connection.js';
