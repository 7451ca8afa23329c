import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Queue } from 'bullmq';
import { z } from 'zod';
import { createFsBlobStore, definePipeline, defineStage } from '@baton/core';
import { createPipelineSet, type JournalEntry } from '@baton/core/engine';
import { createRunDriver } from '../src/driver.js';
import { createTaskJobEncoder, taskClaim, type TaskJobData } from '../src/enqueue.js';
import { taskField, type FlushContext } from '../src/flush.js';
import { bullmqConnectionOf } from '../src/options.js';
import type { TaskOrder } from '../src/replay.js';
import { createRunStore, type RunStore } from '../src/store.js';

// The per-process run driver on real Redis, with the interleavings of a worker that runs
// redelivered jobs (record + offer + drive) beside first deliveries (settle) of the same run.

const step = defineStage({
  name: 'step',
  version: 1,
  input: z.looseObject({}),
  output: z.looseObject({}),
  run: async (input) => input,
});
// two branches of two steps each: the second step of a branch is ordered once the first is journaled
const race = definePipeline({ name: 'driver-race', version: 1, input: z.looseObject({}) })
  .parallel('both', {}, [(b) => b.task('a1', step).task('a2', step), (b) => b.task('b1', step).task('b2', step)])
  .build();

const outcomeOf = (t: TaskOrder): JournalEntry => ({
  t: 'task',
  path: t.stepPath,
  stage: t.stage,
  hash: t.hash,
  attempt: t.attempt,
  ok: true,
  output: {},
  startedAt: 'x',
  at: 'y',
});

describe('run driver (real Redis)', () => {
  const prefix = `drv-${randomBytes(3).toString('hex')}`;
  let store: RunStore;
  let taskQueue: Queue;
  let driveQueue: Queue;

  beforeAll(() => {
    store = createRunStore(inject('redisUrl'), prefix);
    taskQueue = new Queue('task', { connection: bullmqConnectionOf(inject('redisUrl')), prefix });
    driveQueue = new Queue('drive', { connection: bullmqConnectionOf(inject('redisUrl')), prefix });
  });
  afterAll(async () => {
    for (const q of [taskQueue, driveQueue]) {
      await q.obliterate({ force: true });
      await q.close();
    }
    await store.close();
  });

  const queuedPaths = async (): Promise<string[]> =>
    (await taskQueue.getJobs(['waiting', 'delayed'])).flatMap((j) => (j.data as TaskJobData).tasks.map((t) => t.stepPath)).sort();

  it('an outcome recorded by a redelivered job while a settle of the same run is in flight is not lost: its next step is ordered', async () => {
    const runId = `race-${randomBytes(3).toString('hex')}`;
    // the settle's write reaches Redis, but its reply is held until the record below has come back
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let written!: () => void;
    const inRedis = new Promise<void>((r) => (written = r));
    const gated: RunStore = {
      ...store,
      enqueue: async (id, r) => {
        const res = await store.enqueue(id, r);
        if (r.outcomes.length > 0) {
          written();
          await held;
        }
        return res;
      },
    };
    const flush: FlushContext = {
      store: gated,
      driveQueue,
      encoder: createTaskJobEncoder(taskQueue),
      taskBatchSize: 8,
      deliver: async () => {},
      observe: () => {},
      noticeGraceMs: 20_000,
    };
    const driver = createRunDriver({
      store: gated,
      pipelines: createPipelineSet([race]),
      blobs: createFsBlobStore({ root: mkdtempSync(join(tmpdir(), 'baton-drv-')) }),
      flush,
    });

    await store.record(runId, {
      field: 'start',
      entries: [{ t: 'start', runId, pipeline: race.name, input: {}, at: new Date().toISOString() }],
      indexAt: Date.now(),
    });
    await driver.drive(runId);
    const first = (await taskQueue.getJobs(['waiting'])).flatMap((j) => (j.data as TaskJobData).tasks).filter((t) => t.runId === runId);
    const a1 = first.find((t) => t.stepPath.endsWith('/a1'))!;
    const b1 = first.find((t) => t.stepPath.endsWith('/b1'))!;
    expect([a1, b1].every(Boolean)).toBe(true);

    // a first delivery settles a1 (fast path) ...
    const settled = driver.settle(runId, { field: taskField(a1), entry: outcomeOf(a1), running: `${a1.stepPath}#1`, claim: taskClaim(a1) }, () => {});
    await inRedis;
    // ... while a redelivered job records b1 and hands the journal it read back to the driver
    const from = driver.cachedLength(runId);
    const res = await store.record(runId, { field: taskField(b1), entries: [outcomeOf(b1)], running: `${b1.stepPath}#1`, tailFrom: from });
    driver.offer(runId, from, res.tail);
    release();
    expect(await settled).toBe(true);
    await driver.drive(runId, res.length);

    const ordered = (await queuedPaths()).filter((p) => p.endsWith('2'));
    // a2 from the settle, b2 from the drive after the record (before the fix: b1's entry was
    // cached but never folded, so b2 was never ordered and the run waited forever)
    expect(ordered.map((p) => p.slice(-2))).toEqual(['a2', 'b2']);
  });
});
