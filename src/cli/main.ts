import { SERVE_USAGE, serveCommand } from './serve-command.js';
import { TRANSCRIBE_USAGE, transcribeCommand } from './transcribe-command.js';

const USAGE = `${TRANSCRIBE_USAGE}

   or: rxjs-transcribe serve [options]   (run the reference server; serve --help)`;

/** One line for a person: the error's message. */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs the command line; resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(rest);
      case undefined:
        process.stderr.write(`${USAGE}\n`);
        return 2;
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n\n${SERVE_USAGE}\n`);
        return 0;
      default:
        return await transcribeCommand(argv);
    }
  } catch (error) {
    process.stderr.write(`rxjs-transcribe: ${describe(error).split('\n')[0]}\n`);
    return 1;
  }
}
