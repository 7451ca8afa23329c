import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMemoryBlobStore, type ReviewNotice } from '@baton/core';
import { auditRunRecord, createPgliteRegistry, createRegistryObserver, type RegistryObserver, type RunRegistry } from '@baton/registry';
import {
  RECORD_INPUT,
  expectCompleteRecord,
  expectedRecordAttempts,
  registryRecordPipeline as pipeline,
  runApprovedRecord,
  until,
} from '@baton/registry/testkit';
import { createBullmqEngine, createBullmqWorker, type BullmqEngine, type BullmqWorker } from './index.js';

// Proves that a run on BullMQ + Redis leaves a complete registry record (the registry's record kit).
// On BullMQ the engine reports run starts and decisions, the worker that ran a task reports its
// attempts, retries, reviews opened and the run's end: whichever worker executes tasks must have
// the observer too (the engine's in-process worker gets the engine's). The worker emits step events
// for tasks only, so the map and the gate have no pipeline_step row on this engine.

describe('bullmq leaves a complete registry record', () => {
  let registry: RunRegistry;
  const closers: (() => Promise<void>)[] = [];
  const prefix = (): string => `registry-record-${randomBytes(4).toString('hex')}`;
  const engineOf = (options: { prefix: string; observer: RegistryObserver; notices: ReviewNotice[]; worker: boolean }): BullmqEngine => {
    const engine = createBullmqEngine({
      connection: inject('redisUrl'),
      prefix: options.prefix,
      pipelines: [pipeline],
      blobs: createMemoryBlobStore(),
      observer: options.observer,
      notifier: (n) => void options.notices.push(n),
      worker: options.worker,
    });
    closers.push(() => engine.close());
    return engine;
  };
  const workerOf = (options: { prefix: string; observer?: RegistryObserver }): BullmqWorker => {
    const worker = createBullmqWorker({
      connection: inject('redisUrl'),
      prefix: options.prefix,
      pipelines: [pipeline],
      blobs: createMemoryBlobStore(),
      ...(options.observer ? { observer: options.observer } : {}),
    });
    closers.push(() => worker.close());
    return worker;
  };

  beforeAll(async () => {
    registry = await createPgliteRegistry();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await registry?.close();
  });

  it("with the engine's in-process worker: the run, every map item and attempt (the throttled one too), the approved review", async () => {
    const observer = createRegistryObserver(registry);
    const notices: ReviewNotice[] = [];
    const engine = engineOf({ prefix: prefix(), observer, notices, worker: true });
    await engine.worker!.ready;
    const { runId, token } = await runApprovedRecord({ engine, observer, registry, notices });
    expect(observer.failures).toBe(0);
    await expectCompleteRecord(registry, engine, runId, token);
  });

  it('with a separate worker given the observer: the same complete record', async () => {
    const observer = createRegistryObserver(registry);
    const notices: ReviewNotice[] = [];
    const p = prefix();
    const engine = engineOf({ prefix: p, observer, notices, worker: false });
    await workerOf({ prefix: p, observer }).ready;
    const { runId, token } = await runApprovedRecord({ engine, observer, registry, notices });
    expect(observer.failures).toBe(0);
    await expectCompleteRecord(registry, engine, runId, token);
  });

  it('the audit catches a worker that was not given the observer: every attempt is missing', async () => {
    const observer = createRegistryObserver(registry);
    const notices: ReviewNotice[] = [];
    const p = prefix();
    const engine = engineOf({ prefix: p, observer, notices, worker: false });
    await workerOf({ prefix: p }).ready;
    const { runId } = await engine.start('registry-record', RECORD_INPUT);
    await until(() => notices.some((n) => n.runId === runId), 'the review notice');
    await engine.approve(runId, 'review', { token: notices.find((n) => n.runId === runId)!.token });
    expect((await engine.result(runId, { timeoutMs: 30_000 })).status).toBe('succeeded');
    await observer.flush();
    const run = (await registry.getRun(runId))!;
    expect(run.attempts).toEqual([]);
    const { problems } = await auditRunRecord(registry, engine, runId);
    expect(problems).toContain('status: registry running, engine succeeded');
    for (const a of expectedRecordAttempts) expect(problems).toContain(`attempt missing from the registry: ${a}`);
  });
});
