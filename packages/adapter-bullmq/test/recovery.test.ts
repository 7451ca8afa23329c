import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { expect, inject, it } from 'vitest';
import { createFsBlobStore } from '@baton/core';
import { createProbeDir, readProbe, type ProbeEvent } from '@baton/core/testkit';
import { createBullmqEngine, type RecoveringSteps } from '../src/index.js';
import { chaosPipelines } from './fixtures/chaos-pipelines.js';
import { startWorkers, until } from './workers.js';

const here = dirname(fileURLToPath(import.meta.url));
/** What issue 15 asks of the defaults: a SIGKILLed worker's steps run again within this. */
const RESTART_BUDGET_MS = 15_000;

it(
  "with the default lock and stalled-check settings, a SIGKILLed worker's step starts again on another worker within 15 s, and the engine says it is recovering it",
  { timeout: 120_000 },
  async () => {
    const redisUrl = inject('redisUrl');
    const prefix = `recovery-${randomBytes(4).toString('hex')}`;
    const blobDir = mkdtempSync(join(tmpdir(), 'baton-recovery-blobs-'));
    const workers = await startWorkers(2, {
      redisUrl,
      prefix,
      blobDir,
      pipelinesModule: join(here, 'fixtures', 'chaos-pipelines.ts'),
      pipelinesExport: 'chaosPipelines',
      concurrency: 2,
      extraEnv: { BATON_RECOVERY_DEFAULTS: '1' },
    });
    const recovering: (RecoveringSteps & { t: number })[] = [];
    const engine = createBullmqEngine({
      connection: redisUrl,
      prefix,
      pipelines: chaosPipelines,
      blobs: createFsBlobStore({ root: blobDir }),
      worker: false,
      onRecovering: (steps) => void recovering.push({ ...steps, t: Date.now() }),
    });
    try {
      const probe = createProbeDir();
      // each step takes 6 s: the kill lands in the middle of one
      const { runId } = await engine.start('slow-chain', { probe, delayMs: 6000 });
      let first: ProbeEvent | undefined;
      await until('the first step to start', () => (first = readProbe(probe).find((e) => e.event === 'start')) !== undefined, 30_000);
      await new Promise((r) => setTimeout(r, 300));
      const killedAt = Date.now();
      workers.kill(first!.pid);
      let again: ProbeEvent | undefined;
      await until(
        'the step to start again',
        () => (again = readProbe(probe).find((e) => e.event === 'start' && e.key === first!.key && e.pid !== first!.pid)) !== undefined,
        60_000,
      );
      const restartMs = again!.t - killedAt;
      console.log(`recovery: step ${first!.key} of the killed worker started again after ${restartMs} ms`);
      expect(restartMs).toBeLessThanOrEqual(RESTART_BUDGET_MS);
      // the engine heard of it when BullMQ took the step back, before (or as) it started again
      await until('the recovery notice', () => recovering.length > 0, 5000);
      expect(recovering[0]).toMatchObject({ runId, stepPaths: [first!.key] });
      expect(recovering[0]!.t).toBeLessThanOrEqual(again!.t + 1000);
      // the run still finishes, on the survivor
      const outcome = await engine.result(runId, { timeoutMs: 90_000 });
      expect(outcome.status).toBe('succeeded');
    } finally {
      await workers.stop();
      await engine.close();
    }
  },
);
