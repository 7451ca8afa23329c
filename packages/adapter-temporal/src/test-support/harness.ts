import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReviewNotice, ReviewNotifier } from '@baton/core';
import { bundleBatonWorkflow } from '../bundle.js';

/** A Baton worker running in a child process that a test can SIGKILL. */
export interface WorkerProcesses {
  /** Starts a worker process and waits until it polls; `kitDeploy`: it holds that deploy of kit scenario 36 (an export name). */
  start(options?: { kitDeploy?: string }): Promise<void>;
  /** SIGKILLs the current worker process. */
  kill(): Promise<void>;
  /** Stops the current worker gracefully. */
  stop(): Promise<void>;
  readonly pid: number | undefined;
  /** The blob directory the workers share (their claim check's store). */
  readonly blobDir: string;
}

const workerScript = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/** Worker processes on one task queue sharing one blob directory; notices go to `notifier`. */
export async function createWorkerProcesses(options: {
  address: string;
  taskQueue: string;
  notifier?: ReviewNotifier;
  shutdownGrace?: string;
}): Promise<WorkerProcesses> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-temporal-'));
  const bundleFile = join(dir, 'workflow-bundle.js');
  writeFileSync(bundleFile, (await bundleBatonWorkflow()).code);
  let child: ChildProcess | undefined;
  const exited = (c: ChildProcess): Promise<void> =>
    c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));
  return {
    get pid() {
      return child?.pid;
    },
    blobDir: join(dir, 'blobs'),
    async start(startOptions = {}) {
      const c = fork(workerScript, [], {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: options.address,
          BATON_TASK_QUEUE: options.taskQueue,
          BATON_BLOB_DIR: join(dir, 'blobs'),
          BATON_BUNDLE: bundleFile,
          ...(options.shutdownGrace ? { BATON_SHUTDOWN_GRACE: options.shutdownGrace } : {}),
          ...(startOptions.kitDeploy ? { BATON_KIT_DEPLOY: startOptions.kitDeploy } : {}),
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child = c;
      await new Promise<void>((resolve, reject) => {
        c.on('message', (m: { type: string; notice?: ReviewNotice }) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'notice' && m.notice) void options.notifier?.(m.notice);
        });
        c.once('exit', (code, signal) => reject(new Error(`worker process exited before ready (${code ?? signal})`)));
      });
    },
    async kill() {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
    },
    async stop() {
      if (!child) return;
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}
