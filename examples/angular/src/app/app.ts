import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { filter, fromEvent } from 'rxjs';
import { TranscriptionService } from './transcription.service';

/** Live captions: the settled lines, the line being heard, the connection, a level meter, start and stop. */
@Component({
  selector: 'app-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>Live captions</h1>
    <p>
      <button type="button" data-testid="start" (click)="start()" [disabled]="running()">Start</button>
      <button type="button" data-testid="stop" (click)="stop()" [disabled]="!running()">Stop</button>
      <span data-testid="status" [attr.data-state]="status().state">{{ status().state }}</span>
      <meter data-testid="level" min="0" max="1" low="0.05" high="0.5" [value]="metrics().level"></meter>
    </p>
    @if (status().error; as error) {
      <p role="alert" data-testid="error">{{ error }}</p>
    }
    <ol data-testid="finals">
      @for (line of transcript().finals; track $index) {
        <li>{{ line }}</li>
      }
    </ol>
    <p data-testid="partial" aria-live="polite"><em>{{ transcript().partial }}</em></p>
    <p>
      <small>
        sent <span data-testid="sent-ms">{{ metrics().audioSentMs }}</span> ms of audio,
        dropped <span data-testid="dropped-ms">{{ metrics().droppedMs }}</span> ms,
        {{ metrics().reconnects }} reconnects (Escape stops)
      </small>
    </p>
  `,
})
export class App {
  private readonly transcription = inject(TranscriptionService);
  protected readonly transcript = toSignal(this.transcription.transcript$, { requireSync: true });
  protected readonly status = toSignal(this.transcription.status$, { requireSync: true });
  protected readonly metrics = toSignal(this.transcription.metrics$, { requireSync: true });
  protected readonly running = computed(() =>
    ['starting', 'connecting', 'open', 'reconnecting'].includes(this.status().state),
  );

  constructor() {
    // A subscription of the component's own, ended with it.
    fromEvent<KeyboardEvent>(document, 'keydown')
      .pipe(
        filter((event) => event.key === 'Escape'),
        takeUntilDestroyed(),
      )
      .subscribe(() => this.transcription.stop());
  }

  protected start(): void {
    this.transcription.start();
  }

  protected stop(): void {
    this.transcription.stop();
  }
}
