import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createFsBlobStore } from '@baton/core';
import { runConformance } from '@baton/core/testkit';
import { createBullmqEngine, type BullmqEngine } from '../src/index.js';
import { kitPipelinesModule, startWorkers, type WorkerPool } from './workers.js';

runConformance({
  name: 'bullmq (real Redis, 2 worker processes)',
  async setup({ pipelines, notifier, observer }) {
    const redisUrl = inject('redisUrl');
    const prefix = `conf-${randomBytes(4).toString('hex')}`;
    const blobDir = mkdtempSync(join(tmpdir(), 'baton-bullmq-blobs-'));
    const env = { redisUrl, prefix, blobDir, pipelinesModule: kitPipelinesModule(), pipelinesExport: 'conformancePipelines' };
    let workers: WorkerPool = await startWorkers(2, env);
    const engine: BullmqEngine = createBullmqEngine({
      connection: redisUrl,
      prefix,
      pipelines,
      notifier,
      observer,
      blobs: createFsBlobStore({ root: blobDir }),
      worker: false,
    });
    return {
      engine,
      async crash() {
        workers.killAll();
      },
      async restart() {
        workers = await startWorkers(2, env);
      },
      async close() {
        await workers.stop();
        await engine.close();
      },
    };
  },
});
