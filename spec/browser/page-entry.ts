// Bundled for the browser test: the package as a browser bundler sees it (the
// "browser" field swaps in the standard WebSocket and leaves `ws` out).
import { lastValueFrom, toArray } from 'rxjs';
import { fromReadableStream, isTranscriptionError, transcribe, vosk } from 'rxjs-transcribe';

async function run(audioUrl: string, serverUrl: string, sampleRate = 16000): Promise<unknown> {
  const response = await fetch(audioUrl);
  try {
    const audio = fromReadableStream(response.body!, 'wav');
    return await lastValueFrom(
      audio.pipe(transcribe({ url: serverUrl, protocol: vosk({ sampleRate }) }), toArray()),
    );
  } catch (error) {
    if (!isTranscriptionError(error)) throw error;
    return {
      error: {
        kind: error.kind,
        closeCode: error.closeCode,
        retryable: error.retryable,
        message: error.message,
      },
    };
  }
}

(globalThis as { transcribeInPage?: typeof run }).transcribeInPage = run;
