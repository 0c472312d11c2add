// npm run demo: the command line on the sample recording. It starts the
// reference server (pocketsphinx) in-process, streams the file to it as live
// audio at 3x real time, shows the partial caption live on a terminal and
// prints each final line as it lands; then the reference text, to compare.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../dist/esm/cli/main.js';

const root = new URL('..', import.meta.url).pathname;
const sample = join(root, 'samples', 'sense-and-sensibility-0870.wav');
const reference = readFileSync(join(root, 'samples', 'sense-and-sensibility-0870.txt'), 'utf8').trim();

process.stderr.write(`$ rxjs-transcribe ${sample.replace(root, '')} --realtime 3\n`);
const status = await main([sample, '--realtime', '3']);
process.stderr.write(`\nreference: ${reference}\n`);
process.exitCode = status;
