/**
 * rxjs-transcribe: streaming speech-to-text for RxJS.
 * The server lives under `rxjs-transcribe/server` (Node only).
 * @packageDocumentation
 */
export {
  describeWavFormat,
  looksLikeRiff,
  parseWavHeader,
  type WavFormat,
  type WavHeaderParse,
  wavFormatName,
} from './audio/wav-header.js';
