import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The conformance kit's pipelines as a module a worker process can import: `@baton/core/testkit`
 * itself imports vitest, which cannot load outside a test runner.
 */
export function kitPipelinesModule(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@baton/core')), 'testkit', 'pipelines.js');
}

/** The kit's module of pipeline versions (scenario 36's deploys), loadable outside a test runner too. */
export function kitVersionsModule(): string {
  return join(dirname(kitPipelinesModule()), 'pipelines-versions.js');
}

/** What worker processes need to find their Redis, pipelines and blobs. */
export interface WorkerEnv {
  redisUrl: string;
  prefix: string;
  blobDir: string;
  /** Module specifier or absolute path exporting the pipelines. */
  pipelinesModule: string;
  pipelinesExport: string;
  concurrency?: number;
  /** Module and factory export of the model workers use. */
  model?: { module: string; export: string };
  /** File the workers append stage executions and blob writes to (JSON lines with pid). */
  traceFile?: string;
  /** More environment variables of the worker processes. */
  extraEnv?: Record<string, string>;
}

/** Worker processes (`node --import tsx test/worker-process.ts`) that tests can SIGKILL. */
export interface WorkerPool {
  readonly pids: number[];
  /** Every pid ever killed with SIGKILL. */
  readonly killed: Set<number>;
  spawn(): Promise<number>;
  kill(pid: number): void;
  killAll(): void;
  stop(): Promise<void>;
}

/** Starts `n` worker processes and waits until each reports ready. */
export async function startWorkers(n: number, env: WorkerEnv): Promise<WorkerPool> {
  const procs = new Map<number, ChildProcess>();
  const killed = new Set<number>();
  const spawnOne = async (): Promise<number> => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'worker-process.ts')], {
      cwd: join(here, '..'),
      env: {
        ...process.env,
        BATON_REDIS_URL: env.redisUrl,
        BATON_PREFIX: env.prefix,
        BATON_BLOB_DIR: env.blobDir,
        BATON_PIPELINES_MODULE: env.pipelinesModule,
        BATON_PIPELINES_EXPORT: env.pipelinesExport,
        BATON_CONCURRENCY: String(env.concurrency ?? 20),
        ...(env.model ? { BATON_MODEL_MODULE: env.model.module, BATON_MODEL_EXPORT: env.model.export } : {}),
        ...(env.traceFile ? { BATON_TRACE_FILE: env.traceFile } : {}),
        ...env.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker process did not start in 30 s: ${err}`)), 30_000);
      child.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`worker process exited with ${code}: ${err}`));
      });
    });
    child.removeAllListeners('exit');
    procs.set(child.pid!, child);
    child.once('exit', () => procs.delete(child.pid!));
    return child.pid!;
  };
  const pool: WorkerPool = {
    get pids() {
      return [...procs.keys()];
    },
    killed,
    spawn: spawnOne,
    kill(pid) {
      killed.add(pid);
      procs.get(pid)?.kill('SIGKILL');
      procs.delete(pid);
    },
    killAll() {
      for (const pid of [...procs.keys()]) pool.kill(pid);
    },
    async stop() {
      await Promise.all(
        [...procs.values()].map(
          (p) =>
            new Promise<void>((resolve) => {
              const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
              p.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              p.kill('SIGTERM');
            }),
        ),
      );
    },
  };
  await Promise.all(Array.from({ length: n }, spawnOne));
  return pool;
}

/** Polls `check` every 50 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
