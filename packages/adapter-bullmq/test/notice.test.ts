import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect, inject, it } from 'vitest';
import { createFsBlobStore, isStageError, type ReviewNotice } from '@baton/core';
import { conformancePipelines, createProbeDir } from '@baton/core/testkit';
import { createBullmqEngine } from '../src/index.js';
import { kitPipelinesModule, startWorkers, until } from './workers.js';

it(
  'a worker killed while notifying a reviewer: the notice goes out again with a new token, the lost one is void, the run goes on',
  { timeout: 120_000 },
  async () => {
    const redisUrl = inject('redisUrl');
    const prefix = `notice-${randomBytes(4).toString('hex')}`;
    const blobDir = mkdtempSync(join(tmpdir(), 'baton-notice-blobs-'));
    const marker = join(mkdtempSync(join(tmpdir(), 'baton-notice-')), 'died');
    const workers = await startWorkers(2, {
      redisUrl,
      prefix,
      blobDir,
      pipelinesModule: kitPipelinesModule(),
      pipelinesExport: 'conformancePipelines',
      concurrency: 4,
      extraEnv: { BATON_NOTICE_GRACE_MS: '1500', BATON_DIE_IN_NOTIFIER: marker },
    });
    const notices: ReviewNotice[] = [];
    const engine = createBullmqEngine({
      connection: redisUrl,
      prefix,
      pipelines: conformancePipelines,
      blobs: createFsBlobStore({ root: blobDir }),
      worker: false,
      notifier: (n) => void notices.push(n),
    });
    try {
      const { runId } = await engine.start('kit-gate-later', { probe: createProbeDir(), delayMs: 0 });
      // the engine hears the first notice (relayed before the worker's own notifier), then the worker dies
      await until('the worker to die in its notifier', () => existsSync(marker) && !workers.pids.includes(Number(readFileSync(marker, 'utf8'))), 30_000);
      await until('the notice to go out again', () => notices.length >= 2, 30_000);
      expect(notices.map((n) => [n.runId, n.gate])).toEqual([
        [runId, 'review'],
        [runId, 'review'],
      ]);
      expect(notices[1]!.token).not.toBe(notices[0]!.token);
      // the reviewer still sees one open review, with the first notice's deadline
      const info = await engine.status(runId);
      expect(info.pendingReviews.map((r) => [r.gate, r.expiresAt])).toEqual([['review', notices[0]!.expiresAt]]);
      const refused = await engine.approve(runId, 'review', { token: notices[0]!.token }).catch((e: unknown) => e);
      expect(isStageError(refused) && refused.code).toBe('ReviewTokenRejected');
      await engine.approve(runId, 'review', { token: notices[1]!.token, comment: 'second notice' });
      const outcome = await engine.result(runId, { timeoutMs: 30_000 });
      expect(outcome.status).toBe('succeeded');
      // delivered and recorded once now: no third notice
      await new Promise((r) => setTimeout(r, 2000));
      expect(notices).toHaveLength(2);
    } finally {
      await workers.stop();
      await engine.close();
    }
  },
);
