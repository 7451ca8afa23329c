import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiError } from '../api-errors.js';
import { isStageError } from '../errors.js';
import { createProbeDir } from './probe.js';
import type { KitContext } from './suite.js';

/** How long the step before the gate of `kit-gate-later` takes when a decision must find it not reached. */
const GATE_LATER_DELAY_MS = 3000;

/** The code, message and retryable flag a call was refused with (a call that succeeds fails the test). */
async function refusalOf(call: Promise<unknown>): Promise<{ code: string; message: string; retryable: boolean }> {
  const err = await call.then(
    () => new Error('the call succeeded; it should have been refused'),
    (e: unknown) => e,
  );
  if (!isStageError(err)) throw err;
  return { code: err.code, message: err.message, retryable: err.retryable };
}

const expected = (e: ReturnType<(typeof apiError)[keyof typeof apiError]>): { code: string; message: string; retryable: boolean } => ({
  code: e.code,
  message: e.message,
  retryable: e.retryable,
});

/**
 * Scenario 25: an engine API call that cannot be honoured is refused with its own code of the
 * `api` class and the same message on every engine (core's `apiError`): an unknown run, pipeline
 * or gate; a gate not reached yet (at once, not after a wait); a wrong token, a token of another
 * run, a used token, a decision on a closed gate; a redrive of a run that has not failed; a
 * `result()` that times out.
 */
export function apiErrorScenarios({ caps, timeout, engine, output, gateOpen }: KitContext): void {
  describe('25. engine API refusals have codes of their own, the same on every engine', () => {
    it('an unknown run is RunNotFound on status, result, approve, reject and redrive; an unknown pipeline PipelineNotFound', { timeout }, async () => {
      const runId = `no-such-run-${randomBytes(4).toString('hex')}`;
      const notFound = expected(apiError.runNotFound(runId));
      expect(await refusalOf(engine().status(runId))).toEqual(notFound);
      expect(await refusalOf(engine().result(runId, { timeoutMs: timeout }))).toEqual(notFound);
      expect(await refusalOf(engine().redrive(runId))).toEqual(notFound);
      if (caps.approvals) {
        expect(await refusalOf(engine().approve(runId, 'review', { token: 'x'.repeat(43) }))).toEqual(notFound);
        expect(await refusalOf(engine().reject(runId, 'review', { token: 'x'.repeat(43) }))).toEqual(notFound);
      }
      const pipeline = await refusalOf(engine().start('kit-no-such-pipeline', { probe: createProbeDir() }));
      expect(pipeline.code).toBe('PipelineNotFound');
      expect(pipeline.message).toMatch(/^unknown pipeline "kit-no-such-pipeline"; this engine knows: .*kit-sequence/);
    });

    it('result() that gives up waiting is ResultTimedOut (retryable: waiting again may succeed); the run goes on', { timeout }, async () => {
      const { runId } = await engine().start('kit-crash', { probe: createProbeDir(), value: 0, delayMs: 200 });
      expect(await refusalOf(engine().result(runId, { timeoutMs: 50 }))).toEqual(expected(apiError.resultTimedOut(runId, 50)));
      expect(output(await engine().result(runId, { timeoutMs: timeout })).s6).toEqual({ value: 6 });
    });

    it('redrive of a run in progress, succeeded, or failed on its input is RunNotRedrivable', { timeout }, async () => {
      const { runId } = await engine().start('kit-crash', { probe: createProbeDir(), value: 0, delayMs: 200 });
      expect(await refusalOf(engine().redrive(runId))).toEqual(expected(apiError.runNotRedrivable(runId, 'in-progress')));
      await engine().result(runId, { timeoutMs: timeout });
      expect(await refusalOf(engine().redrive(runId))).toEqual(expected(apiError.runNotRedrivable(runId, 'succeeded')));
      const invalid = await engine().start('kit-strict-input', { probe: createProbeDir(), value: 'not a number' });
      expect(await engine().result(invalid.runId, { timeoutMs: timeout })).toMatchObject({ status: 'failed', error: { code: 'InvalidInput' } });
      expect(await refusalOf(engine().redrive(invalid.runId))).toEqual(expected(apiError.runNotRedrivable(invalid.runId, 'invalid-input')));
      expect((await engine().status(invalid.runId)).status).toBe('failed');
    });

    it.skipIf(!caps.approvals)('a gate not reached yet is GateNotOpen at once; an unknown gate GateNotFound', { timeout }, async () => {
      const { runId } = await engine().start('kit-gate-later', { probe: createProbeDir(), delayMs: GATE_LATER_DELAY_MS });
      expect(await refusalOf(engine().approve(runId, 'review', { token: 'x'.repeat(43) }))).toEqual(expected(apiError.gateNotOpen(runId, 'review')));
      // refused before the gate opened: no engine waited for it
      expect((await engine().status(runId)).pendingReviews).toEqual([]);
      expect(await refusalOf(engine().approve(runId, 'no-such-gate', { token: 'x'.repeat(43) }))).toEqual(
        expected(apiError.gateNotFound(runId, 'no-such-gate', ['review'])),
      );
      const notice = await gateOpen(runId, 'review');
      expect(await refusalOf(engine().reject(runId, 'no-such-gate', { token: notice.token }))).toEqual(
        expected(apiError.gateNotFound(runId, 'no-such-gate', ['review'])),
      );
      await engine().approve(runId, 'review', { token: notice.token });
      expect(output(await engine().result(runId, { timeoutMs: timeout })).review).toMatchObject({ approved: true });
    });

    it.skipIf(!caps.approvals)(
      "a wrong token and another run's token are ReviewTokenRejected; a used token ReviewTokenUsed; a closed gate GateNotOpen",
      { timeout },
      async () => {
        const [a, b] = await Promise.all([0, 1].map(() => engine().start('kit-gate-later', { probe: createProbeDir(), delayMs: 0 })));
        const [na, nb] = await Promise.all([gateOpen(a!.runId, 'review'), gateOpen(b!.runId, 'review')]);
        const rejected = expected(apiError.reviewTokenRejected(a!.runId, 'review'));
        expect(await refusalOf(engine().approve(a!.runId, 'review', { token: 'forged-' + na.token.slice(7) }))).toEqual(rejected);
        expect(await refusalOf(engine().approve(a!.runId, 'review', { token: nb.token }))).toEqual(rejected);
        await engine().approve(a!.runId, 'review', { token: na.token, reviewer: 'alice' });
        expect(await refusalOf(engine().approve(a!.runId, 'review', { token: na.token, reviewer: 'alice' }))).toEqual(
          expected(apiError.reviewTokenUsed(a!.runId, 'review')),
        );
        expect(await refusalOf(engine().reject(a!.runId, 'review', { token: na.token }))).toEqual(expected(apiError.reviewTokenUsed(a!.runId, 'review')));
        expect(await refusalOf(engine().approve(a!.runId, 'review', { token: nb.token }))).toEqual(expected(apiError.gateNotOpen(a!.runId, 'review')));
        expect(output(await engine().result(a!.runId, { timeoutMs: timeout })).review).toMatchObject({ approved: true, reviewer: 'alice' });
        // none of it touched the other run: its own token still decides it
        await engine().reject(b!.runId, 'review', { token: nb.token });
        expect(await engine().result(b!.runId, { timeoutMs: timeout })).toMatchObject({ status: 'failed', error: { code: 'ApprovalRejected' } });
      },
    );
  });
}
