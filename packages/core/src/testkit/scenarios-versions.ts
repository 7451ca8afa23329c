import { describe, expect, it } from 'vitest';
import { isStageError } from '../errors.js';
import { createProbeDir, readProbe } from './probe.js';
import type { KitContext } from './suite.js';
import type { KitVersionDeploy } from './pipelines-versions.js';

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
 * A failed run redriven after its stages' versions changed (same pipeline version and IR) re-runs
 * the failed stage and the completed ones whose version changed, with the new code, and keeps the
 * output of the unchanged one. Needs the harness's `deploy`.
 */
export function versionScenarios({ caps, timeout, engine, output, gateOpen, deployer }: KitContext): void {
  describe('36. runs are pinned to the pipeline version they started on', () => {
    it.skipIf(!caps.approvals || !caps.versions)(
      'a v1 run approved after v2 is deployed ends with v1 shape, a new run takes v2, v1 runs are refused once v1 is gone',
      { timeout: timeout * 3 },
      async () => {
        const deploy = requireDeployer(deployer);
        try {
          await deploy('v1');
          const a = createProbeDir();
          const { runId: onV1 } = await engine().start('kit-versioned', { probe: a });
          const noticeA = await gateOpen(onV1, 'review');

          await deploy('both');
          await engine().approve(onV1, 'review', { token: noticeA.token, reviewer: 'alice' });
          const outA = output(await engine().result(onV1, { timeoutMs: timeout }));
          expect(
            Object.keys(outA)
              .filter((k) => ['draft', 'published', 'checked', 'released'].includes(k))
              .sort(),
          ).toEqual(['draft', 'published']);
          expect(outA.published).toMatchObject({ value: 3 });
          expect(
            readProbe(a)
              .filter((e) => e.event === 'start')
              .map((e) => e.key),
          ).toEqual(['draft', 'publish']);

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
      },
    );

    it.skipIf(!caps.redrive || !caps.versions)(
      'a redrive after stage versions changed re-runs the failed and the changed stages with the new code and keeps the unchanged one',
      { timeout: timeout * 3 },
      async () => {
        const deploy = requireDeployer(deployer);
        try {
          await deploy('v1');
          const probe = createProbeDir();
          const { runId } = await engine().start('kit-stage-fix', { probe });
          expect(await engine().result(runId, { timeoutMs: timeout })).toMatchObject({ status: 'failed', error: { code: 'ReleaseBroken' } });
          // the same pipeline version and IR; kit-stamp and kit-release at version 2, kit-step unchanged
          await deploy('both');
          await engine().redrive(runId);
          expect(output(await engine().result(runId, { timeoutMs: timeout }))).toMatchObject({
            draft: { value: 2 },
            stamp: { version: 2 },
            release: { version: 2 },
          });
          const starts = readProbe(probe)
            .filter((e) => e.event === 'start')
            .map((e) => e.stage);
          expect(starts).toEqual(['kit-step', 'kit-stamp@1', 'kit-release@1', 'kit-stamp@2', 'kit-release@2']);
        } finally {
          await deploy('restore');
        }
      },
    );
  });
}

/** The harness's deploy: an engine that keeps `versions` on must provide it (no silent skip). */
function requireDeployer(deployer: KitContext['deployer']): (which: KitVersionDeploy | 'restore') => Promise<void> {
  const deploy = deployer?.();
  if (!deploy)
    throw new Error(
      'the conformance capability `versions` is on but the harness has no deploy(): implement Harness.deploy, or turn `versions` off with the reason',
    );
  return deploy;
}
