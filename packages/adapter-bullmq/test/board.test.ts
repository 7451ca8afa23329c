import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, inject, it, vi } from 'vitest';
import { createBullBoard } from '@bull-board/api';
import { createFsBlobStore } from '@baton/core';
import { createProbeDir } from '@baton/core/testkit';
import { createBullBoardQueues, createBullmqEngine } from '../src/index.js';
import type { TaskJobData } from '../src/enqueue.js';
import { chaosPipelines } from './fixtures/chaos-pipelines.js';

it('bull-board sees the engine queues and the jobs of a finished run', async () => {
  const redisUrl = inject('redisUrl');
  const prefix = `board-${randomBytes(4).toString('hex')}`;
  const engine = createBullmqEngine({
    connection: redisUrl,
    prefix,
    pipelines: chaosPipelines,
    blobs: createFsBlobStore({ root: mkdtempSync(join(tmpdir(), 'baton-board-')) }),
  });
  const board = createBullBoardQueues({ connection: redisUrl, prefix });
  try {
    const { runId } = await engine.start('slow-chain', { probe: createProbeDir(), delayMs: 0 });
    expect((await engine.result(runId, { timeoutMs: 30_000 })).status).toBe('succeeded');

    // a server adapter records what bull-board mounts on it (any real one: express, hono, fastify)
    let mounted: Map<string, unknown> | undefined;
    const serverAdapter = {
      setQueues(q: Map<string, unknown>) {
        mounted = q;
        return serverAdapter;
      },
      setViewsPath: () => serverAdapter,
      setStaticPath: () => serverAdapter,
      setEntryRoute: () => serverAdapter,
      setErrorHandler: () => serverAdapter,
      setApiRoutes: () => serverAdapter,
      setUIConfig: () => serverAdapter,
    };
    createBullBoard({ queues: board.queues, serverAdapter: serverAdapter as never });
    expect([...(mounted?.keys() ?? [])].sort()).toEqual(['drive', 'task']);

    const [drive, task] = board.queues;
    expect(drive!.getDisplayName?.() ?? drive!.getName()).toContain(prefix);
    // a sequential chain runs inline under the job of its first stage (one job, its lock covers the
    // chain); the journal holds every stage. The run's end is recorded before that job completes
    await vi.waitFor(async () => expect((await task!.getJobCounts()).completed).toBe(1), { timeout: 5000 });
    const jobs = await task!.getJobs(['completed']);
    expect(jobs.flatMap((j) => (j.data as TaskJobData).tasks.map((t) => t.stepPath))).toEqual(['s1']);
    expect((await engine.status(runId)).attempts.map((a) => a.stepPath).sort()).toEqual(['s1', 's2', 's3', 's4', 's5', 's6']);
    // the engine's in-process worker scheduled the start itself: no driver job was needed
    expect(await drive!.getJobCounts()).toMatchObject({ completed: 0, failed: 0 });
  } finally {
    await board.close();
    await engine.close();
  }
});
