#!/usr/bin/env node
/**
 * Every publishable package installs and runs outside this repository (issue 19, point 3):
 *
 * 1. builds the publishable workspaces (turbo; cached when `npm run test:all` built them already);
 * 2. `npm pack`s each into a temporary directory, refuses a tarball that ships a declaration map or
 *    test files, and runs publint (--strict) and @arethetypeswrong/cli (esm-only profile: Baton is
 *    ESM only, so CommonJS `require` resolution is not a target) on each tarball;
 * 3. creates a scratch project in a new temporary directory (outside the workspace, so nothing
 *    resolves through its node_modules), installs the tarballs there (their other dependencies
 *    come from the npm registry), and from there
 *    a. runs the root README's first TypeScript example (Node 24 strips its types),
 *    b. runs `npx baton run report --engine local --sources <the example's sources> --out <dir>
 *       --auto-approve` and checks that the report was written.
 *
 *   bash scripts/node.sh node scripts/pack-check.mjs [--keep] [--no-build]
 *   (--keep leaves the temp dirs; --no-build packs the dist/ directories as they are)
 *
 * Exits non-zero on the first failure, naming it. Needs Node 22+ (scripts/node.sh) and the registry.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const KEEP = process.argv.includes('--keep');
const BUILD = !process.argv.includes('--no-build');
const started = Date.now();

function step(title) {
  console.log(`\npack-check [${((Date.now() - started) / 1000).toFixed(0)} s] ${title}`);
}

function fail(message) {
  console.error(`\npack-check FAILED: ${message}`);
  process.exit(1);
}

/** Runs a command, output shown; fails the check with `what` when it exits non-zero. */
function run(cmd, args, opts, what) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) fail(`${what} (${[cmd, ...args].join(' ')} exited ${r.status ?? r.signal})`);
}

/** Like run(), but captures stdout and stderr (printed on failure). */
function capture(cmd, args, opts, what) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.status !== 0) {
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
    fail(`${what} (${[cmd, ...args].join(' ')} exited ${r.status ?? r.signal})`);
  }
  return r.stdout;
}

if (Number(process.versions.node.split('.')[0]) < 22) fail(`Node ${process.versions.node}: run through scripts/node.sh (Node 22+)`);

// the workspaces that are published: every one not marked private
const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const workspaces = rootPkg.workspaces
  .flatMap((pattern) => (pattern.endsWith('/*') ? readdirSync(join(ROOT, pattern.slice(0, -2))).map((d) => join(pattern.slice(0, -2), d)) : [pattern]))
  .filter((dir) => existsSync(join(ROOT, dir, 'package.json')))
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) }));
const publishable = workspaces.filter((w) => !w.pkg.private);
const names = new Set(publishable.map((w) => w.pkg.name));

if (BUILD) {
  step(`building ${publishable.length} publishable packages`);
  run('npx', ['turbo', 'run', 'build', ...publishable.flatMap((w) => ['--filter', w.pkg.name]), '--output-logs=errors-only'], { cwd: ROOT }, 'build');
}

// a published package may depend at run time only on packages that are published too
for (const { pkg } of publishable) {
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
    const local = workspaces.find((w) => w.pkg.name === dep);
    if (local && !names.has(dep)) fail(`${pkg.name} depends on ${dep}, which is private: it cannot be installed from the registry`);
  }
}

const work = mkdtempSync(join(tmpdir(), 'baton-pack-'));
const packs = join(work, 'packs');
mkdirSync(packs);
step(`packing into ${packs}`);
const tarballs = [];
for (const { dir, pkg } of publishable) {
  const out = capture('npm', ['pack', '--json', '--pack-destination', packs], { cwd: join(ROOT, dir) }, `npm pack ${pkg.name}`);
  const [info] = JSON.parse(out);
  const files = info.files.map((f) => f.path);
  const bad = files.filter((f) => /\.d\.[mc]?ts\.map$/.test(f) || /\.test(-d)?\.[mc]?[jt]s$/.test(f) || /(^|\/)test-support\//.test(f));
  if (bad.length)
    fail(
      `${pkg.name} would publish ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ` (+${bad.length - 5})` : ''}: declaration maps point at sources that are not shipped, tests are not for users`,
    );
  for (const entry of exportTargets(pkg)) if (!files.includes(entry.replace(/^\.\//, ''))) fail(`${pkg.name}: exports target ${entry} is not in the tarball`);
  tarballs.push({ name: pkg.name, file: join(packs, info.filename), bytes: info.size, unpacked: info.unpackedSize, count: files.length });
}
for (const t of tarballs)
  console.log(
    `  ${t.name.padEnd(32)} ${(t.bytes / 1024).toFixed(0).padStart(6)} KB packed, ${(t.unpacked / 1024).toFixed(0).padStart(6)} KB unpacked, ${t.count} files`,
  );

step('publint --strict and attw --profile esm-only on every tarball');
// in parallel: each is a separate npx process, mostly start-up time
const linted = await Promise.all(
  tarballs.map((t) =>
    limit(async () => {
      const problems = [];
      for (const [tool, args] of [
        ['publint', ['publint', 'run', t.file, '--strict']],
        ['attw', ['attw', t.file, '--profile', 'esm-only', '--format', 'ascii', '--no-color', '--no-emoji']],
      ]) {
        const r = await spawnAsync('npx', args, { cwd: ROOT });
        if (r.code !== 0) problems.push(`${tool} ${t.name} exited ${r.code}:\n${r.output}`);
      }
      return { name: t.name, problems };
    }),
  ),
);
for (const l of linted) {
  if (l.problems.length) {
    console.error(l.problems.join('\n'));
    fail(`${l.name} is not clean under publint/attw`);
  }
  console.log(`  ${l.name}: publint and attw clean`);
}

const app = join(work, 'app');
mkdirSync(app);
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'baton-pack-check', private: true, type: 'module' }, null, 2) + '\n');
step(`installing the tarballs into an empty project, ${app}`);
// zod is the user's own (a peer of @baton/core): the README's example imports it
run(
  'npm',
  ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs.map((t) => t.file), 'zod@^4'],
  { cwd: app },
  'npm install of the tarballs',
);
for (const t of tarballs) {
  const installed = join(app, 'node_modules', t.name, 'package.json');
  if (!existsSync(installed)) fail(`${t.name} is not installed at the top of the scratch project`);
}
const nested = findNested(join(app, 'node_modules'));
if (nested.length) fail(`second copies of Baton packages were installed (from the registry?): ${nested.join(', ')}`);

step("running the root README's first example");
const example = firstBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'), 'ts');
writeFileSync(join(app, 'readme-example.ts'), example);
const out = capture(process.execPath, ['readme-example.ts'], { cwd: app }, "the README's first example");
process.stdout.write(
  out
    .split('\n')
    .map((l) => `  | ${l}`)
    .join('\n') + '\n',
);
if (!/status: 'succeeded'/.test(out)) fail(`the README's first example did not print a succeeded result`);

step('npx baton run report --engine local --auto-approve');
const sources = join(ROOT, 'examples/report-generation/sources');
const reportDir = join(app, 'out/report');
run('npx', ['baton', 'run', 'report', '--engine', 'local', '--sources', sources, '--out', reportDir, '--auto-approve'], { cwd: app }, 'baton run report');
for (const file of ['report.docx', 'report.md']) {
  const path = join(reportDir, file);
  if (!existsSync(path) || statSync(path).size === 0) fail(`baton run report wrote no ${relative(app, path)}`);
}
console.log(`  ${relative(app, reportDir)}: ${readdirSync(reportDir).join(', ')}`);

if (KEEP) console.log(`\nkept ${work}`);
else rmSync(work, { recursive: true, force: true });
step(`ok: ${tarballs.length} packages packed, linted, installed in an empty project and run`);

/** Runs a command to its end, stdout and stderr captured together. */
function spawnAsync(cmd, args, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code, signal) => resolve({ code: code ?? signal, output }));
  });
}

/** Runs at most availableParallelism() of the given tasks at once. */
function limit(task) {
  limit.queue ??= [];
  limit.running ??= 0;
  return new Promise((resolve, reject) => {
    const next = () => {
      limit.running++;
      task()
        .then(resolve, reject)
        .finally(() => {
          limit.running--;
          limit.queue.shift()?.();
        });
    };
    if (limit.running < Math.max(2, availableParallelism())) next();
    else limit.queue.push(next);
  });
}

/** Every file an `exports` map (or `bin`) points at. */
function exportTargets(pkg) {
  const targets = [];
  const walk = (v) => {
    if (typeof v === 'string') targets.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(pkg.exports);
  walk(pkg.bin);
  return targets.filter((t) => !t.includes('*'));
}

/** Baton packages installed below another package's node_modules (a second copy). */
function findNested(nodeModules) {
  const found = [];
  for (const pkg of readdirSync(join(nodeModules, '@baton'))) {
    const inner = join(nodeModules, '@baton', pkg, 'node_modules', '@baton');
    if (existsSync(inner)) for (const n of readdirSync(inner)) found.push(`@baton/${pkg} -> @baton/${n}`);
  }
  return found;
}

/** The first fenced code block of the given language in a Markdown text. */
function firstBlock(markdown, lang) {
  const m = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'm').exec(markdown);
  if (!m) fail(`README.md has no \`\`\`${lang} block`);
  return m[1];
}
