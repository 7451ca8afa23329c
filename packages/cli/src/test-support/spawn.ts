import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Repository root. */
export const ROOT = join(import.meta.dirname, '../../../..');
/** The built CLI. */
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');
/** The sample sources of the reference example. */
export const SAMPLE_SOURCES = join(ROOT, 'examples/report-generation/sources');

/** A fresh working directory with a copy of the sample sources in `sources/`. */
export function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'baton-cli-'));
  cpSync(SAMPLE_SOURCES, join(dir, 'sources'), { recursive: true });
  return dir;
}

/**
 * The environment of a spawned CLI: this process's, minus DATABASE_URL (which would switch every
 * test from the PGlite registry to Postgres; tests that want Postgres pass it explicitly).
 */
function envOf(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...rest } = process.env;
  return { ...rest, ...extra };
}

/** Runs the CLI to completion (stdin not a TTY) and returns its exit code and output. */
export function baton(cwd: string, args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: envOf(env), timeout: 80_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI and resolves once `pattern` appears on stderr, then kills it with SIGKILL. */
export async function batonKilledAfter(cwd: string, args: string[], pattern: RegExp): Promise<string> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pattern ${pattern} not seen: ${stderr}`));
    }, 60_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (pattern.test(stderr)) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        child.once('exit', () => resolve(stderr));
      }
    });
  });
}

/** A CLI process running in the background. */
export interface BatonProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` on stdout + stderr (rejects after `ms`). */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code. */
  exited(): Promise<number | null>;
}

const started = new Set<ChildProcess>();

/** SIGKILLs every background CLI process still alive (an `afterEach` so a failed test leaves none). */
export function killStarted(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  started.clear();
}

/** Starts the CLI in the background (for workers, dashboards and runs that wait). */
export function startBaton(cwd: string, args: string[], env: Record<string, string> = {}): BatonProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: envOf(env) });
  started.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: () => exit,
    async waitFor(pattern, ms = 60_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = pattern.exec(out + '\n' + err);
        if (m) return m;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${pattern} not seen (exit ${child.exitCode}):\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** Runs the CLI to completion without blocking the test's event loop. */
export async function batonAsync(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startBaton(cwd, args, env);
  const code = await p.exited();
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}
