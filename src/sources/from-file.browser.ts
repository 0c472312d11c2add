import { type Observable, throwError } from 'rxjs';
import type { AudioChunk } from '../audio/audio-format.js';
import { badAudio } from '../errors/transcription-error.js';
import type { FromFileOptions } from './from-file.js';

export type { FromFileOptions } from './from-file.js';

/** In browsers there are no file paths: use `fromReadableStream(file.stream(), 'wav')`. */
export function fromFile(path: string, _options: FromFileOptions = {}): Observable<AudioChunk> {
  return throwError(() =>
    badAudio(`fromFile("${path}") needs Node.js; in a browser use fromReadableStream(file.stream(), 'wav')`),
  );
}
