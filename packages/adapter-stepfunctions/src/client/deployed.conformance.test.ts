import { conformancePipelines, createProbeDir, readProbe, runConformance, setProbeFlag, startCounts } from '@baton/core/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy } from './test-support/deployed.js';

/** The conformance kit against createStepFunctionsEngine on `@baton/local-aws`'s endpoints (see test-support/deployed.ts). */
runConformance({
  name: 'stepfunctions (createStepFunctionsEngine on the local Step Functions and Lambda endpoints)',
  capabilities: {
    // the service holds the executions: there is no worker of ours to crash
    crashResume: false,
    // the service draws each retry's jittered delay; the engine reports the delay it measured in the history and the
    // compiled retrier's bound in ASL's whole seconds, not the kit policy's milliseconds
    retryDelays: false,
    // RedriveExecution re-runs the failed AND the aborted iterations of an inline Map (AWS's rule): an item in flight
    // when the map failed runs again, which the kit's scenario forbids; the next describe checks AWS's rule instead
    redrive: false,
    // the deployment's functions and status-change rule record run events, not this engine's observer
    runEvents: false,
    // one deployment per kit: redeploying the stack with another pipeline version is the CDK's job (issue 17: the
    // construct's qualified Lambda versions are checked in construct.test.ts), not this harness's
    versions: false,
  },
  timeoutMs: 90_000,
  setup: ({ pipelines, notifier }) => deploy(pipelines, { notifier }),
});

describe('redrive of a deployed run (RedriveExecution on the local endpoint)', () => {
  let deployment: Awaited<ReturnType<typeof deploy>>;
  beforeAll(async () => {
    deployment = await deploy(conformancePipelines.filter((p) => p.name === 'kit-map-strict'));
  }, 120_000);
  afterAll(() => deployment?.close(), 60_000);

  it('re-runs the failed and aborted map iterations only: not the steps before the map, not the iterations that succeeded', { timeout: 90_000 }, async () => {
    const { engine } = deployment;
    const probe = createProbeDir();
    const items = [1, 2, 3, 4, 5];
    const { runId } = await engine.start('kit-map-strict', { probe, items, delayMs: 0, failIndexes: [1, 3] });
    expect(await engine.result(runId, { timeoutMs: 60_000 })).toMatchObject({ status: 'failed', error: { code: 'ItemBroken' } });
    const failed = await engine.status(runId);
    const done = new Set(failed.attempts.filter((a) => a.status === 'succeeded').map((a) => a.stepPath));
    expect(done.has('before')).toBe(true);
    const broken = failed.attempts.filter((a) => a.error?.code === 'ItemBroken').map((a) => a.stepPath);
    expect(broken.length).toBeGreaterThan(0);
    expect(broken.every((p) => p === 'items[1]/item' || p === 'items[3]/item')).toBe(true);
    const startsBefore = startCounts(readProbe(probe));
    setProbeFlag(probe, 'fixed');
    await engine.redrive(runId);
    const out = await engine.result(runId, { timeoutMs: 60_000 });
    expect(out.status).toBe('succeeded');
    if (out.status === 'succeeded')
      expect((out.output as { results: { status: string }[] }).results.map((r) => r.status)).toEqual(items.map(() => 'succeeded'));
    const startsAfter = startCounts(readProbe(probe));
    expect(startsAfter.get('before')).toBe(1);
    for (const [i] of items.entries()) {
      const key = `item-${i}`;
      // an iteration that succeeded keeps its result; one that failed, was cut short or never started runs again
      // (a count, not an exact one: the local endpoint may still invoke an iteration's Lambda after the map failed)
      if (done.has(`items[${i}]/item`)) expect(startsAfter.get(key), key).toBe(startsBefore.get(key));
      else expect(startsAfter.get(key) ?? 0, key).toBeGreaterThan(0);
    }
    const after = await engine.status(runId);
    expect(after).toMatchObject({ status: 'succeeded', currentSteps: [] });
    expect(after.attempts.filter((a) => a.status === 'running')).toEqual([]);
    for (const p of broken) expect(after.attempts.filter((a) => a.stepPath === p).map((a) => a.status)).toEqual(['failed', 'succeeded']);
    await expect(engine.redrive(runId)).rejects.toThrow(/has not failed/);
  });
});
