import { SERVE_USAGE, serveCommand } from './serve-command.js';

const USAGE = `usage: rxjs-transcribe <command>

commands:
  serve    run the reference speech-to-text server

${SERVE_USAGE}`;

/** Runs the command line; resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(rest);
      case undefined:
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`rxjs-transcribe: unknown command "${command}"\n${USAGE}\n`);
        return 2;
    }
  } catch (error) {
    process.stderr.write(`rxjs-transcribe: ${(error as Error).message}\n`);
    return 1;
  }
}
