import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The built `baton` command line of packages/cli. */
export const BATON_BIN = join(import.meta.dirname, '../../../../cli/dist/bin.js');

/** Runs `baton <args>` to its end. */
export function baton(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(BATON_BIN)) throw new Error(`${BATON_BIN} is missing: build the CLI (npx turbo run build --filter=@baton/cli)`);
  return new Promise((resolve) => {
    execFile(process.execPath, [BATON_BIN, ...args], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `baton <args>` (such as `baton rehearse`), its output so far, and a wait for a line. */
export function batonInBackground(
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: () => string; waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>; stop(): Promise<number | null> } {
  const child = spawn(process.execPath, [BATON_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    output: () => out,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(out);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`baton ${args[0]} exited (${child.exitCode}) before ${pattern}: ${out}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} from baton ${args[0]} within ${timeoutMs} ms: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop() {
      if (child.exitCode !== null) return Promise.resolve(child.exitCode);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGINT');
      return exited;
    },
  };
}
