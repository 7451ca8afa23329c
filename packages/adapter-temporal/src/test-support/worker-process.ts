/*
 * A Baton worker in its own process, for tests that kill it with SIGKILL. Configured by
 * environment: TEMPORAL_ADDRESS, BATON_TASK_QUEUE, BATON_BLOB_DIR, BATON_BUNDLE (a file holding
 * the workflow bundle's code), BATON_KIT_DEPLOY (optional: the kit pipelines of a version deploy,
 * by export name, instead of the kit's own). Review notices go to the parent over IPC.
 */
import { readFileSync } from 'node:fs';
import { createFsBlobStore } from '@baton/core';
import { createTemporalWorker } from '../worker.js';
import { kitDeployPipelines, kitPipelines } from './kit.js';
import { testPipelines } from './pipelines.js';
import { quietTemporalRuntime } from './quiet.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`worker-process: ${name} is not set`);
  return v;
};

quietTemporalRuntime();
const worker = await createTemporalWorker({
  pipelines: [...(process.env.BATON_KIT_DEPLOY ? await kitDeployPipelines(process.env.BATON_KIT_DEPLOY) : kitPipelines), ...testPipelines],
  address: env('TEMPORAL_ADDRESS'),
  taskQueue: env('BATON_TASK_QUEUE'),
  blobs: createFsBlobStore({ root: env('BATON_BLOB_DIR') }),
  workflowBundle: { code: readFileSync(env('BATON_BUNDLE'), 'utf8') },
  notifier: (notice) => {
    process.send?.({ type: 'notice', notice });
  },
  // a killed worker's sticky queue is abandoned quickly, so the next worker takes over
  stickyQueueScheduleToStartTimeout: '1s',
  shutdownGraceTime: process.env.BATON_SHUTDOWN_GRACE ?? '5s',
});
process.on('SIGTERM', () => void worker.shutdown().then(() => process.exit(0)));
process.send?.({ type: 'ready', pid: process.pid });
await worker.running;
