import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createFsBlobStore, type AnyPipeline } from '@baton/core';
import { KIT_DEPLOY_EXPORTS, runConformance } from '@baton/core/testkit';
import { createBullmqEngine, type BullmqEngine } from '../src/index.js';
import { kitPipelinesModule, kitVersionsModule, startWorkers, type WorkerEnv, type WorkerPool } from './workers.js';

// both ways task jobs reach BullMQ: the fused script (this BullMQ passes its contract check) and Queue.addBulk
for (const enqueuePath of ['auto', 'public'] as const)
  runConformance({
    name: `bullmq (real Redis, 2 worker processes, enqueue path ${enqueuePath})`,
    async setup({ pipelines, notifier, observer }) {
      const redisUrl = inject('redisUrl');
      const prefix = `conf-${randomBytes(4).toString('hex')}`;
      const blobDir = mkdtempSync(join(tmpdir(), 'baton-bullmq-blobs-'));
      let env: WorkerEnv = {
        redisUrl,
        prefix,
        blobDir,
        pipelinesModule: kitPipelinesModule(),
        pipelinesExport: 'conformancePipelines',
        extraEnv: { BATON_ENQUEUE_PATH: enqueuePath },
      };
      const open = (held: AnyPipeline[]): BullmqEngine =>
        createBullmqEngine({ connection: redisUrl, prefix, pipelines: held, notifier, observer, blobs: createFsBlobStore({ root: blobDir }), worker: false });
      let workers: WorkerPool = await startWorkers(2, env);
      let engine = open(pipelines);
      return {
        get engine() {
          return engine;
        },
        // a deploy: engine and workers replaced by ones holding the set (workers load it from the kit's versions module)
        async deploy({ pipelines: held, set }) {
          await workers.stop();
          await engine.close();
          env = { ...env, pipelinesModule: kitVersionsModule(), pipelinesExport: KIT_DEPLOY_EXPORTS[set] };
          workers = await startWorkers(2, env);
          engine = open(held);
        },
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
