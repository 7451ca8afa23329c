import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMemoryBlobStore, type ReviewNotice } from '@baton/core';
import { createPgliteRegistry, createRegistryObserver, type RunRegistry } from '@baton/registry';
import { expectCompleteRecord, registryRecordPipeline as pipeline, runApprovedRecord } from '@baton/registry/testkit';
import type { WorkflowBundle } from '@temporalio/worker';
import { bundleBatonWorkflow, createTemporalEngine, createTemporalWorker } from './index.js';
import { quietTemporalRuntime } from './test-support/quiet.js';

// Proves that a run on Temporal leaves a complete registry record (the registry's record kit), with
// a step row for every kind of step (map, items, gate) and the execution id.
// Every event comes from the worker (workflow sink: run, steps, retries, decisions; activities:
// attempts, reviews opened), so the worker is what must get the observer: the engine's
// in-process worker gets the engine's, a separate worker takes its own `observer`.

quietTemporalRuntime();

describe('temporal leaves a complete registry record', () => {
  const address = inject('temporalAddress');
  let registry: RunRegistry;
  let workflowBundle: WorkflowBundle;
  const closers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    registry = await createPgliteRegistry();
    workflowBundle = await bundleBatonWorkflow();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await registry?.close();
  });

  it("with the engine's in-process worker: the run, every map item and attempt (the throttled one too), the approved review", async () => {
    const observer = createRegistryObserver(registry);
    const notices: ReviewNotice[] = [];
    const engine = createTemporalEngine({
      address,
      taskQueue: `registry-record-${randomUUID()}`,
      pipelines: [pipeline],
      blobs: createMemoryBlobStore(),
      workflowBundle,
      observer,
      notifier: (n) => void notices.push(n),
    });
    closers.push(() => engine.close());
    const { runId, token } = await runApprovedRecord({ engine, observer, registry, notices });
    expect(observer.failures).toBe(0);
    await expectCompleteRecord(registry, engine, runId, token, { allStepKinds: true });
    expect((await registry.getRun(runId))?.executionId).toEqual(expect.any(String));
  });

  it('with a separate worker given the observer (the engine has none): the same complete record', async () => {
    const observer = createRegistryObserver(registry);
    const notices: ReviewNotice[] = [];
    const taskQueue = `registry-record-${randomUUID()}`;
    const engine = createTemporalEngine({ address, taskQueue, pipelines: [pipeline], worker: false });
    closers.push(() => engine.close());
    const worker = await createTemporalWorker({
      address,
      taskQueue,
      pipelines: [pipeline],
      blobs: createMemoryBlobStore(),
      workflowBundle,
      observer,
      notifier: (n) => void notices.push(n),
    });
    closers.push(async () => {
      await worker.shutdown();
      await worker.running.catch(() => undefined);
    });
    const { runId, token } = await runApprovedRecord({ engine, observer, registry, notices });
    expect(observer.failures).toBe(0);
    await expectCompleteRecord(registry, engine, runId, token, { allStepKinds: true });
    expect((await registry.getRun(runId))?.executionId).toEqual(expect.any(String));
  });
});
