import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePipeline, type AnyPipeline } from '../builder.js';
import { isStageError } from '../errors.js';
import { conformancePipelines } from './pipelines.js';
import { createProbeDir, readProbe } from './probe.js';
import { kitStep } from './stages.js';
import type { KitContext } from './suite.js';

const Input = z.looseObject({ probe: z.string() });
const P = { 'probe.$': '$.probe' };
const gate = { gate: 'review', timeoutSeconds: 3600, payload: { 'draft.$': '$.draft' }, resultPath: '$.review' } as const;

/** Version 1 of `kit-versioned`: draft, review gate, publish. */
export const kitVersionedV1 = definePipeline({ name: 'kit-versioned', version: 1, input: Input })
  .task('draft', kitStep, { input: { ...P, value: 1 }, resultPath: '$.draft' })
  .approval('review', gate)
  .task('publish', kitStep, { input: { ...P, 'value.$': '$.draft.value' }, resultPath: '$.published' })
  .build();

/** Version 2 of `kit-versioned`: another shape (a check step before the gate, a release step after). */
export const kitVersionedV2 = definePipeline({ name: 'kit-versioned', version: 2, input: Input })
  .task('draft', kitStep, { input: { ...P, value: 10 }, resultPath: '$.draft' })
  .task('check', kitStep, { input: { ...P, 'value.$': '$.draft.value' }, resultPath: '$.checked' })
  .approval('review', gate)
  .task('release', kitStep, { input: { ...P, 'value.$': '$.checked.value' }, resultPath: '$.released' })
  .build();

/** The kit's pipelines with the versions of `kit-versioned` a deploy of scenario 36 loads. */
export const KIT_VERSION_DEPLOYS = {
  v1: [...conformancePipelines, kitVersionedV1],
  both: [...conformancePipelines, kitVersionedV1, kitVersionedV2],
  v2: [...conformancePipelines, kitVersionedV2],
} as const satisfies Record<string, AnyPipeline[]>;

/** Which deploy of scenario 36 to load (see {@link KIT_VERSION_DEPLOYS}). */
export type KitVersionDeploy = keyof typeof KIT_VERSION_DEPLOYS;

/** The code a call was refused with and the details it carries (a call that succeeds fails the test). */
async function refusalOf(call: Promise<unknown>): Promise<{ code: string; details: unknown }> {
  const err = await call.then(
    () => new Error('the call succeeded; it should have been refused'),
    (e: unknown) => e,
  );
  if (!isStageError(err)) throw err;
  return { code: err.code, details: err.details };
}

/**
 * Scenario 36: a run is pinned to the pipeline version it started on. A run waiting at a gate on
 * version 1 is approved after version 2 (another shape) is deployed next to it and ends with
 * version 1's steps; a new run takes version 2; with version 1 no longer deployed, approving or
 * redriving a version 1 run is refused with `PipelineVersionNotLoaded` and the run is unchanged.
 * Needs the harness's `deploy`; skipped without it or without approvals.
 */
export function versionScenarios({ caps, timeout, engine, output, gateOpen, deployer }: KitContext): void {
  describe.skipIf(!caps.approvals)('36. runs are pinned to the pipeline version they started on', () => {
    it('a v1 run approved after v2 is deployed ends with v1 shape, a new run takes v2, v1 runs are refused once v1 is gone', { timeout: timeout * 3 }, async (ctx) => {
      const deploy = deployer?.();
      if (!deploy) return ctx.skip();
      try {
        await deploy('v1');
        const a = createProbeDir();
        const { runId: onV1 } = await engine().start('kit-versioned', { probe: a });
        const noticeA = await gateOpen(onV1, 'review');

        await deploy('both');
        await engine().approve(onV1, 'review', { token: noticeA.token, reviewer: 'alice' });
        const outA = output(await engine().result(onV1, { timeoutMs: timeout }));
        expect(Object.keys(outA).filter((k) => ['draft', 'published', 'checked', 'released'].includes(k)).sort()).toEqual(['draft', 'published']);
        expect(outA.published).toMatchObject({ value: 3 });
        expect(readProbe(a).filter((e) => e.event === 'start').map((e) => e.key)).toEqual(['draft', 'publish']);

        const b = createProbeDir();
        const { runId: onV2 } = await engine().start('kit-versioned', { probe: b });
        const noticeB = await gateOpen(onV2, 'review');
        await engine().approve(onV2, 'review', { token: noticeB.token, reviewer: 'alice' });
        const outB = output(await engine().result(onV2, { timeoutMs: timeout }));
        expect(outB).toMatchObject({ draft: { value: 11 }, checked: { value: 12 }, released: { value: 13 } });
        expect(outB.published).toBeUndefined();

        // two more v1 runs, named by version: one rejected (failed), one left waiting
        const { runId: rejected } = await engine().start('kit-versioned', { probe: createProbeDir() }, { version: 1 });
        const noticeR = await gateOpen(rejected, 'review');
        await engine().reject(rejected, 'review', { token: noticeR.token, reviewer: 'bob' });
        expect(await engine().result(rejected, { timeoutMs: timeout })).toMatchObject({ status: 'failed', error: { code: 'ApprovalRejected' } });
        const { runId: waiting } = await engine().start('kit-versioned', { probe: createProbeDir() }, { version: 1 });
        const noticeW = await gateOpen(waiting, 'review');

        await deploy('v2');
        const before = { waiting: await engine().status(waiting), rejected: await engine().status(rejected) };
        const refusedApprove = await refusalOf(engine().approve(waiting, 'review', { token: noticeW.token, reviewer: 'alice' }));
        expect(refusedApprove).toMatchObject({ code: 'PipelineVersionNotLoaded', details: { pipeline: 'kit-versioned', version: 1 } });
        const refusedRedrive = await refusalOf(engine().redrive(rejected));
        expect(refusedRedrive).toMatchObject({ code: 'PipelineVersionNotLoaded', details: { pipeline: 'kit-versioned', version: 1 } });
        const after = { waiting: await engine().status(waiting), rejected: await engine().status(rejected) };
        expect(after.waiting).toMatchObject({ status: 'waiting', pendingReviews: before.waiting.pendingReviews });
        expect(after.rejected).toMatchObject({ status: 'failed', error: { code: 'ApprovalRejected' } });
        expect(after.rejected.attempts).toEqual(before.rejected.attempts);
      } finally {
        await deploy('restore');
      }
    });
  });
}
