import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewNotice } from '@baton/core';
import { createPgliteRegistry, createRegistryObserver, type RegistryObserver, type RunRegistry } from '@baton/registry';
import { expectCompleteRecord, registryRecordPipeline, runApprovedRecord } from '@baton/registry/testkit';
import { createStepFunctionsLocalEngine, type StepFunctionsLocalEngine } from './index.js';

// A run on stepfunctions-local leaves a complete registry record (the registry's record kit):
// run row, one stage_attempt row per attempt (the throttled one included), a step row per task
// (from the Baton task bindings), the decided review, and a clean audit.

describe.each(['function-arn', 'invoke'] as const)('stepfunctions-local (%s task integration) leaves a complete registry record', (lambdaIntegration) => {
  let registry: RunRegistry;
  let observer: RegistryObserver;
  let engine: StepFunctionsLocalEngine;
  const notices: ReviewNotice[] = [];

  beforeAll(async () => {
    registry = await createPgliteRegistry();
    observer = createRegistryObserver(registry);
    engine = createStepFunctionsLocalEngine({
      pipelines: [registryRecordPipeline],
      observer,
      notifier: (n) => void notices.push(n),
      compile: { lambdaIntegration },
    });
  }, 60_000); // PGlite starts in seconds on a loaded 2-core machine
  afterAll(async () => {
    await engine?.close();
    await registry?.close();
  });

  it('records the run, every map item and attempt (the throttled one too) and the approved review', async () => {
    const { runId, token } = await runApprovedRecord({ engine, observer, registry, notices });
    expect(observer.failures).toBe(0);
    await expectCompleteRecord(registry, engine, runId, token);
  }, 60_000);
});
