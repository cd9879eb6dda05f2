// The check that the package is real (`npm run test:install`): pack the
// library, install the tarball into a fresh project outside the repository
// with only its peer dependencies, compile a small Nest app against it with
// tsc (strict, nodenext), run it against a real Redis (enqueue -> handled ->
// metrics), then run the installed `nest-redis-broker status --json`.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, run, runCheck, say, startRedis, tempDir } from './ci-support.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LIBRARY = join(ROOT, 'libs', 'redis-broker');
const APP_SOURCE = join(ROOT, 'test', 'install', 'app.ts');
const QUEUE = 'install-test-greetings';
const PEERS = ['@nestjs/common', '@nestjs/core', 'ioredis', 'reflect-metadata', 'rxjs', 'prom-client', '@nestjs/terminus'];
const TOOLS = ['typescript', '@types/node'];
const NPM_QUIET = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/** The user's tsconfig: as strict as we can ask, Node's own module rules. */
const USER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noImplicitOverride: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    // Our .d.ts files are checked too, as a user's build would.
    skipLibCheck: false,
    rootDir: 'src',
    outDir: 'dist',
  },
  include: ['src'],
};

/** The versions this repository builds and tests with (the root package.json pins them). */
function repoVersions() {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const all = { ...manifest.dependencies, ...manifest.devDependencies };
  return [...PEERS, ...TOOLS].map((name) => {
    check(all[name], `the root package.json does not pin ${name}`);
    return `${name}@${all[name]}`;
  });
}

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every file an exports map names, under any condition. */
function exportTargets(entry) {
  if (typeof entry === 'string') return [entry];
  if (entry === null || typeof entry !== 'object') return [];
  return Object.values(entry).flatMap(exportTargets);
}

/** What the installed package must hold: each check reads the files npm actually unpacked. */
function checkInstalledPackage(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const files = filesUnder(dir).map((path) => relative(dir, path));
  for (const name of ['README.md', 'LICENSE', 'CHANGELOG.md']) check(files.includes(name), `the tarball lacks ${name}`);
  check(!files.some((file) => file.endsWith('.tsbuildinfo')), 'the tarball ships a .tsbuildinfo');
  // npmjs.com resolves a relative link against the package, where docs/ is not: the shipped copies link absolutely.
  for (const name of ['README.md', 'CHANGELOG.md']) {
    const relativeLinks = files.includes(name) ? readFileSync(join(dir, name), 'utf8').match(/\]\((?!https?:|mailto:|#)[^)\s]+\)/g) ?? [] : [];
    check(relativeLinks.length === 0, `the packaged ${name} has relative links, dead on npmjs.com: ${relativeLinks.slice(0, 3).join(' ')}`);
  }
  check(files.some((file) => file.endsWith('.lua')) && files.some((file) => file.endsWith('.html')), 'the tarball lacks the Lua or HTML assets');
  const exported = Object.entries(manifest.exports).flatMap(([subpath, entry]) => exportTargets(entry).map((target) => ({ subpath, target })));
  const missing = exported.filter(({ target }) => !existsSync(join(dir, target)));
  check(missing.length === 0, `exports name files the tarball lacks: ${missing.map(({ subpath, target }) => `${subpath} -> ${target}`).join(', ')}`);
  const bins = Object.values(manifest.bin ?? {});
  check(bins.length > 0, 'the package declares no bin');
  for (const bin of bins) {
    check(existsSync(join(dir, bin)), `the bin ${bin} is not in the tarball`);
    check(readFileSync(join(dir, bin), 'utf8').startsWith('#!/usr/bin/env node'), `the bin ${bin} has no node shebang`);
  }
  const maps = files.filter((file) => file.endsWith('.map'));
  for (const map of maps) {
    const { sources = [], sourceRoot = '' } = JSON.parse(readFileSync(join(dir, map), 'utf8'));
    for (const source of sources) {
      const target = join(dir, dirname(map), sourceRoot, source);
      check(existsSync(target), `${map} points at ${relative(dir, target)}, which the tarball lacks`);
    }
  }
  say(`installed package: ${files.length} files; ${exported.length} export targets, ${bins.length} bin and the sources of ${maps.length} maps all present`);
}

async function main() {
  const work = tempDir('nrb-install-test');
  say(`== pack ${relative(ROOT, LIBRARY)} (prepack builds it)`);
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work, '--loglevel=error'], { cwd: LIBRARY, stdio: ['ignore', 'pipe', 'inherit'] }))[0];
  const tarball = join(work, packed.filename);
  say(`${packed.filename}: ${packed.entryCount} files, ${(packed.size / 1024).toFixed(1)} kB packed, ${(packed.unpackedSize / 1024).toFixed(1)} kB unpacked`);

  say('== fresh project outside the repository, the tarball and its peers only');
  const project = join(work, 'user-app');
  mkdirSync(join(project, 'src'), { recursive: true });
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'nrb-install-test-app', private: true, type: 'module' }, null, 2)}\n`);
  run('npm', ['install', ...NPM_QUIET, tarball, ...repoVersions()], { cwd: project });
  const installed = join(project, 'node_modules', 'nest-redis-broker');
  checkInstalledPackage(installed);

  // This repository runs its sources with its own condition; a user's app
  // that sets the common `source` condition must still get the compiled code.
  const resolved = run('node', ['--conditions=source', '--input-type=module', '-e', "console.log(import.meta.resolve('nest-redis-broker'))"], { cwd: project }).trim();
  check(resolved.endsWith('/node_modules/nest-redis-broker/dist/index.js'), `with --conditions=source, nest-redis-broker resolves to ${resolved}`);
  say(`node --conditions=source resolves nest-redis-broker to ${relative(project, fileURLToPath(resolved))}`);

  // Nest apps are CommonJS by default: the ESM package must load through
  // require() (require(esm), Node >= 20.19 / 22.12, hence `engines`).
  const required = run('node', ['-e', "const b = require('nest-redis-broker'); const o = require('nest-redis-broker/observability'); console.log(typeof b.QueueHandler, typeof o.BrokerMetrics)"], { cwd: project }).trim();
  check(required === 'function function', `require('nest-redis-broker') from CommonJS gave: ${required}`);
  say(`require('nest-redis-broker') from CommonJS on Node ${process.versions.node}: QueueHandler and BrokerMetrics load`);

  say('== compile the app with the installed tsc (strict, nodenext)');
  copyFileSync(APP_SOURCE, join(project, 'src', 'main.ts'));
  writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify(USER_TSCONFIG, null, 2)}\n`);
  run('node', [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project, stdio: ['ignore', 'inherit', 'inherit'] });
  say('tsc: no errors');

  say('== run it against a real Redis');
  const redis = await startRedis();
  const appOutput = run('node', ['dist/main.js'], { cwd: project, env: { ...process.env, REDIS_URL: redis.url } });
  for (const line of appOutput.trimEnd().split('\n')) say(`  ${line}`);
  check(/^handled: hello tarball/m.test(appOutput), 'the app did not report the message handled');
  check(/^metrics: .*messages_handled_total\{.*\} 1$/m.test(appOutput), 'the metrics did not count the handled message');

  say('== the installed CLI');
  const statusText = run('npx', ['--no', 'nest-redis-broker', 'status', '--json', '--url', redis.url], { cwd: project });
  const status = JSON.parse(statusText);
  const queue = status.queues?.find((q) => q.queue === QUEUE);
  check(queue, `status --json lists no queue ${QUEUE}: ${statusText}`);
  check(queue.waiting === 0 && queue.processing === 0 && queue.dead === 0, `queue ${QUEUE} is not drained: ${JSON.stringify(queue)}`);
  say(`  ${JSON.stringify(queue)}`);
}

runCheck('install test', main);
