import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertRunId } from '@baton/core/engine';
import type { EngineConnection } from './engines/context.js';

/** What the CLI remembers about a run it started, so approve/resume/redrive can finish it. */
export interface RunSidecar {
  runId: string;
  pipeline: string;
  pipelines: string;
  engine: string;
  model: string;
  /** `--prices` as given: inline JSON, or the absolute path of its file. */
  prices?: string;
  faults?: string;
  /** Where the report files are copied when the run succeeds. */
  out?: string;
  /** The run was started with --auto-approve: resume and redrive approve its gates the same way. */
  autoApprove?: boolean;
  /**
   * Servers the run's engine was reached at (`--redis-url`, `--temporal-address`, ...), minus
   * `worker`. Never a password: a Redis URL is kept without it (see {@link readSidecar}).
   */
  connection?: Omit<EngineConnection, 'worker'>;
}

/**
 * Writes the sidecar of a run under `<stateDir>/cli/` (directory 0700, file 0600). Passwords are
 * not written: a Redis URL's password is dropped, and given again on resume by `REDIS_URL` or
 * `--redis-url`.
 */
export function writeSidecar(stateDir: string, sidecar: RunSidecar): void {
  const dir = join(stateDir, 'cli');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${assertRunId(sidecar.runId)}.json`);
  const stored: RunSidecar = sidecar.connection?.redisUrl
    ? { ...sidecar, connection: { ...sidecar.connection, redisUrl: withoutPassword(sidecar.connection.redisUrl) } }
    : sidecar;
  writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  // a file that existed before keeps its mode through writeFileSync
  chmodSync(file, 0o600);
}

/**
 * Reads the sidecar of a run, if the CLI started it. A Redis URL stored without its password
 * takes the password of `REDIS_URL` when that names the same server and user.
 */
export function readSidecar(stateDir: string, runId: string, env: NodeJS.ProcessEnv = process.env): RunSidecar | undefined {
  let sidecar: RunSidecar;
  try {
    // assertRunId: an id from the command line (`../../package`) never names a file outside cli/
    sidecar = JSON.parse(readFileSync(join(stateDir, 'cli', `${assertRunId(runId)}.json`), 'utf8')) as RunSidecar;
  } catch {
    return undefined;
  }
  const stored = sidecar.connection?.redisUrl;
  const fromEnv = env.REDIS_URL;
  if (stored && fromEnv && withoutPassword(fromEnv) === stored) sidecar.connection = { ...sidecar.connection, redisUrl: fromEnv };
  return sidecar;
}

/** The URL without the password of its user info (`redis://user:pw@host` → `redis://user@host`). */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '';
    return u.toString();
  } catch {
    // not a URL we can parse: drop anything between "//" and "@" that could be user info
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}
