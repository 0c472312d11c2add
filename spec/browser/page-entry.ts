// Bundled for the browser test: the package as a browser bundler sees it (the
// "browser" field swaps in the standard WebSocket and leaves `ws` out).
import { lastValueFrom, toArray } from 'rxjs';
import {
  fromReadableStream,
  isTranscriptionError,
  TranscriptionStream,
  transcribe,
  transcribeFile,
  transcribeStream,
  vosk,
} from 'rxjs-transcribe';

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

/** The three doors in the page, each on the same fetched WAV, and transcribeFile of a path (Node only). */
async function doors(audioUrl: string, serverUrl: string): Promise<unknown> {
  const blob = await (await fetch(audioUrl)).blob();
  const file = (await transcribeFile(blob, { url: serverUrl })).text;
  const iterated: string[] = [];
  for await (const event of transcribeStream((await fetch(audioUrl)).body!, { url: serverUrl })) {
    if (event.type === 'final') iterated.push(event.text);
  }
  const piped: string[] = [];
  const reader = blob
    .stream()
    .pipeThrough(new TranscriptionStream({ url: serverUrl }))
    .getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    if (next.value.type === 'final') piped.push(next.value.text);
  }
  const path = await transcribeFile('talk.wav', { url: serverUrl }).then(
    () => 'resolved',
    (error: unknown) => (isTranscriptionError(error) ? error.kind : String(error)),
  );
  return { file, iterated: iterated.join(' '), piped: piped.join(' '), path };
}

(globalThis as { doorsInPage?: typeof doors }).doorsInPage = doors;
