import { isTranscriptionError, TranscriptionError } from '../errors/transcription-error.js';

/** Why the microphone could not capture, or stopped. */
export type MicrophoneErrorReason =
  /** The user, or a policy (Permissions-Policy, enterprise settings), refused the microphone. */
  | 'permission-denied'
  /** No microphone, or none with the `deviceId` asked for. */
  | 'no-device'
  /** The microphone exists but cannot be opened (another application holds it, the OS refused). */
  | 'device-busy'
  /** The microphone stopped mid-stream: unplugged, disabled, or its permission revoked. */
  | 'device-lost'
  /** The page is not a secure context (https, or http on localhost), so browsers hide the microphone. */
  | 'insecure-context'
  /** The AudioContext stayed suspended: browsers start audio only after a user gesture. */
  | 'suspended'
  /** No getUserMedia or AudioWorklet here (Node, an old browser, a worker). */
  | 'unsupported';

/**
 * A microphone failure: a {@link TranscriptionError} of kind `bad-audio` (not
 * retryable: trying again needs the user or the device), with `reason` to
 * tell the cases apart and the browser's own error as `cause`.
 */
export class MicrophoneError extends TranscriptionError {
  readonly reason: MicrophoneErrorReason;

  constructor(reason: MicrophoneErrorReason, message: string, cause?: unknown) {
    super(message, { kind: 'bad-audio', retryable: false, cause });
    this.reason = reason;
  }
}

/** True for a {@link MicrophoneError}, even one from another copy of this library. */
export function isMicrophoneError(value: unknown): value is MicrophoneError {
  return isTranscriptionError(value) && typeof (value as { reason?: unknown }).reason === 'string';
}

/** The error of a failed getUserMedia, by the DOMException's name. */
export function microphoneErrorOf(error: unknown, deviceId: string | undefined): MicrophoneError {
  const name = typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name) : '';
  const detail = error instanceof Error && error.message !== '' ? ` (${error.message})` : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new MicrophoneError(
        'permission-denied',
        `microphone permission denied${detail}: allow the microphone for this site in the browser's settings (and, in an iframe, allow="microphone")`,
        error,
      );
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new MicrophoneError(
        'no-device',
        deviceId === undefined
          ? `no microphone found${detail}: connect one, or check that the OS lets the browser use it`
          : `no microphone with deviceId "${deviceId}"${detail}: list them with navigator.mediaDevices.enumerateDevices()`,
        error,
      );
    case 'NotReadableError':
    case 'AbortError':
      return new MicrophoneError(
        'device-busy',
        `the microphone could not be opened${detail}: another application may hold it, or the OS blocked it`,
        error,
      );
    default:
      return new MicrophoneError('unsupported', `getUserMedia failed${detail}`, error);
  }
}
