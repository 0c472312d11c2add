/** The width of the progress bar, in cells. */
const BAR_CELLS = 24;
const REDRAW_MS = 100;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The bottom line of a terminal, redrawn in place: a progress bar (when stderr
 * is a terminal) and the live partial caption (when stdout is one too). Lines
 * written "above" it scroll up as usual. Draws nothing when neither is a terminal.
 */
export class LiveLine {
  private readonly stream: NodeJS.WriteStream | undefined;
  private readonly showProgress: boolean;
  private readonly showCaption: boolean;
  private progress = '';
  private caption = '';
  private shown = false;
  private lastDraw = 0;

  constructor(stderr: NodeJS.WriteStream, stdout: NodeJS.WriteStream, captions: boolean) {
    this.showProgress = stderr.isTTY === true;
    this.showCaption = captions && stdout.isTTY === true;
    this.stream = this.showProgress ? stderr : this.showCaption ? stdout : undefined;
  }

  /** Whether anything is drawn (a terminal to redraw on). */
  get active(): boolean {
    return this.stream !== undefined;
  }

  /** The audio position (of `totalMs`, when known), and more to show after it (speed, lag). */
  setProgress(positionMs: number, totalMs: number | undefined, extra = ''): void {
    if (!this.showProgress) return;
    const tail = extra === '' ? '' : `  ${extra}`;
    if (totalMs !== undefined && totalMs > 0) {
      const done = Math.min(1, positionMs / totalMs);
      const cells = Math.round(done * BAR_CELLS);
      this.progress = `[${'#'.repeat(cells)}${'-'.repeat(BAR_CELLS - cells)}] ${seconds(positionMs)} / ${seconds(totalMs)}${tail}`;
    } else this.progress = `sent ${seconds(positionMs)}${tail}`;
    const now = Date.now();
    if (now - this.lastDraw >= REDRAW_MS) this.draw();
  }

  setCaption(text: string): void {
    if (!this.showCaption) return;
    this.caption = text;
    this.draw();
  }

  /** Writes something above the live line (which is redrawn after). */
  above(write: () => void): void {
    this.erase();
    write();
    this.draw();
  }

  /** Removes the line for good (at the end). */
  clear(): void {
    this.erase();
    this.progress = '';
    this.caption = '';
  }

  private erase(): void {
    if (this.shown && this.stream !== undefined) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }

  private draw(): void {
    if (this.stream === undefined) return;
    this.lastDraw = Date.now();
    const width = this.stream.columns ?? 80;
    const parts = [this.progress, this.caption ? `> ${this.caption}` : ''].filter(Boolean);
    let line = parts.join('  ');
    if (line.length > width - 1) line = `...${line.slice(line.length - width + 4)}`;
    this.stream.write(`\r\x1b[2K${line}`);
    this.shown = line !== '';
  }
}
