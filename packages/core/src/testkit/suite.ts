import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyPipeline } from '../builder.js';
import type { Engine, ReviewNotice, ReviewNotifier, RunInfo } from '../engine.js';
import { isBlobRef } from '../blob-ref.js';
import type { RunOutcome } from '../interpreter/types.js';
import type { RunEvent, RunObserver } from '../observer.js';
import { KIT_APPROVAL_TIMEOUT_SECONDS, KIT_RETRY, conformancePipelines } from './pipelines.js';
import { createProbeDir, highWaterMark, readProbe, setProbeFlag, startCounts, type ProbeEvent } from './probe.js';
import { apiErrorScenarios } from './scenarios-api-errors.js';
import { fatalAndReviewerScenarios } from './scenarios-fatal.js';
import { limitsScenarios } from './scenarios-limits.js';
import { sectionReviewScenarios } from './scenarios-review.js';
import { runIdScenarios } from './scenarios-run-ids.js';
import { semanticsScenarios } from './scenarios-semantics.js';
import { mapToleranceScenarios } from './scenarios-map-tolerance.js';
import { KIT_VERSION_DEPLOYS, type KitVersionDeploy } from './pipelines-versions.js';
import { versionScenarios } from './scenarios-versions.js';
import { resultScenarios } from './scenarios-results.js';

/**
 * What an engine can express. Every flag defaults to true; an engine that turns one off must
 * explain why in the README's engine table, and the scenarios behind it are skipped by name.
 */
export interface ConformanceCapabilities {
  /** The engine reports each scheduled retry delay in `status().retries`. */
  retryDelays: boolean;
  /** Map items beyond the tolerated failure threshold fail the map. */
  toleratedFailures: boolean;
  /** Approval gates with tokens and timeouts. */
  approvals: boolean;
  /** The harness can crash and restart the engine's workers. */
  crashResume: boolean;
  /** `redrive` re-runs only failed steps and items. */
  redrive: boolean;
  /** The engine delivers its runs' events to `HarnessOptions.observer` (not a deployment whose functions record them). */
  runEvents: boolean;
  /** The harness deploys several versions of a pipeline side by side ({@link Harness.deploy}). */
  versions: boolean;
}

/** What the kit gives an engine's setup. */
export interface HarnessOptions {
  /** Pipelines the engine must be able to start by name (and its workers to run). */
  pipelines: AnyPipeline[];
  /** Deliver review tokens here. */
  notifier: ReviewNotifier;
  /** Give the engine this observer (its `observer` option): the kit checks the run events it receives. */
  observer: RunObserver;
}

/** An engine under test, with the means to crash and restart its workers. */
export interface Harness {
  /** The engine to use now (it may be a new object after `restart`). */
  readonly engine: Engine;
  /** Kills the workers abruptly (SIGKILL or the in-process equivalent). */
  crash?(): Promise<void>;
  /** Starts workers again over the same durable state. */
  restart?(): Promise<void>;
  /**
   * A deploy while runs are in flight: replaces the engine and its workers by ones holding
   * `pipelines` (several versions of a name among them), over the same durable state. `set` names
   * the list among the kit's exports (`KIT_VERSION_DEPLOYS[set]`, or `conformancePipelines` for
   * `'conformance'`), for workers in other processes. Without it the version scenario is skipped.
   */
  deploy?(options: { pipelines: AnyPipeline[]; set: KitVersionDeploy | 'conformance' }): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /** Engine name shown in test titles. */
  name: string;
  setup(options: HarnessOptions): Promise<Harness>;
  capabilities?: Partial<ConformanceCapabilities>;
  /** Per-scenario timeout. @default 60000 */
  timeoutMs?: number;
}

/** What a file of scenarios gets from {@link runConformance}: the engine and the kit's helpers. */
export interface KitContext {
  caps: ConformanceCapabilities;
  /** Per-scenario timeout in ms. */
  timeout: number;
  engine(): Engine;
  /** Starts a pipeline with a fresh probe and waits for its outcome. */
  run(pipeline: string, input?: Record<string, unknown>): Promise<{ runId: string; probe: string; outcome: RunOutcome; events: ProbeEvent[] }>;
  /** The output of a succeeded run; throws with the error otherwise. */
  output(outcome: RunOutcome): Record<string, unknown>;
  /** The run events the harness's observer received for a run so far, in order. */
  runEvents?(runId: string): RunEvent[];
  /**
   * Waits until the gate is pending in `status()` and its notice has arrived; with `stepPath`
   * (a gate in a loop opens once per iteration), until the review at a matching step path is.
   */
  gateOpen(runId: string, gate: string, stepPath?: RegExp): Promise<ReviewNotice>;
  /** The harness's {@link Harness.deploy} of a kit pipeline set (`'restore'`: the kit's own), when it has one. */
  deployer?: () => ((which: KitVersionDeploy | 'restore') => Promise<void>) | undefined;
}

/**
 * Registers the conformance suite (vitest) against an engine. Every adapter's test file calls
 * this, unchanged, against its real engine.
 *
 * @example
 * ```ts
 * runConformance({ name: 'local', setup: async ({ pipelines, notifier }) => {
 *   const engine = createLocalEngine({ pipelines, notifier });
 *   return { engine, close: () => engine.close() };
 * } });
 * ```
 */
export function runConformance(options: ConformanceOptions): void {
  const caps: ConformanceCapabilities = {
    retryDelays: true,
    toleratedFailures: true,
    approvals: true,
    crashResume: true,
    redrive: true,
    runEvents: true,
    versions: true,
    ...options.capabilities,
  };
  const timeout = options.timeoutMs ?? 60_000;
  const notices = new Map<string, ReviewNotice>();
  const observed = new Map<string, RunEvent[]>();
  const runEvents = (runId: string): RunEvent[] => [...(observed.get(runId) ?? [])];
  let harness: Harness;
  const engine = (): Engine => harness.engine;

  const run = async (
    pipeline: string,
    input: Record<string, unknown> = {},
  ): Promise<{ runId: string; probe: string; outcome: RunOutcome; events: ProbeEvent[] }> => {
    const probe = createProbeDir();
    const { runId } = await engine().start(pipeline, { probe, ...input });
    const outcome = await engine()
      .result(runId, { timeoutMs: timeout })
      .catch(async (e: unknown) => {
        throw new Error(`${(e as Error).message}; ${await stuckSummary(engine(), runId, readProbe(probe))}`, { cause: e });
      });
    return { runId, probe, outcome, events: readProbe(probe) };
  };
  const output = (o: RunOutcome): Record<string, unknown> => {
    if (o.status !== 'succeeded') throw new Error(`run failed: ${o.error.code}: ${o.error.message}`);
    return o.output as Record<string, unknown>;
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> => {
    const deadline = Date.now() + timeout;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const gateOpen = (runId: string, gate: string, stepPath?: RegExp): Promise<ReviewNotice> =>
    waitFor(`gate ${gate} of ${runId}${stepPath ? ` at ${stepPath}` : ''}`, async () => {
      const at = (r: { gate: string; stepPath: string }): boolean => r.gate === gate && (!stepPath || stepPath.test(r.stepPath));
      const info: RunInfo = await engine().status(runId);
      const notice = notices.get(`${runId}/${gate}`);
      return info.pendingReviews.some(at) && notice && at(notice) ? notice : undefined;
    });

  describe(`conformance: ${options.name}`, () => {
    beforeAll(async () => {
      harness = await options.setup({
        pipelines: conformancePipelines,
        notifier: (n) => {
          notices.set(`${n.runId}/${n.gate}`, n);
        },
        observer: (e) => {
          observed.set(e.runId, [...(observed.get(e.runId) ?? []), e]);
        },
      });
    }, 120_000);
    afterAll(async () => {
      await harness?.close();
    }, 60_000);

    it('1. a sequence of three stages passes data through paths', { timeout }, async () => {
      const { outcome, events } = await run('kit-sequence', { value: 1, label: 'L' });
      const out = output(outcome);
      expect(out).toMatchObject({ a: { value: 2 }, b: { value: 3 }, c: { value: 4, seen: 'L' } });
      expect([...startCounts(events).values()]).toEqual([1, 1, 1]);
    });

    it('2. invalid run input fails with InvalidInput and runs no stage', { timeout }, async () => {
      const { outcome, events, runId } = await run('kit-strict-input', { value: 'not a number' });
      expect(outcome.status).toBe('failed');
      if (outcome.status === 'failed') {
        expect(outcome.error.code).toBe('InvalidInput');
        expect(outcome.error.message).toMatch(/value/);
      }
      expect(events).toHaveLength(0);
      expect((await engine().status(runId)).status).toBe('failed');
    });

    it('3. throttled twice then success: 3 attempts, delays within the jittered bounds', { timeout }, async () => {
      const { outcome, events, runId } = await run('kit-retry');
      expect(output(outcome)).toMatchObject({ flaky: { attempts: 3 } });
      const starts = events.filter((e) => e.event === 'start');
      expect(starts.map((e) => e.attempt)).toEqual([1, 2, 3]);
      const ends = events.filter((e) => e.event === 'end');
      const gaps = [starts[1]!.t - ends[0]!.t, starts[2]!.t - ends[1]!.t];
      const bounds = [KIT_RETRY.intervalMs!, KIT_RETRY.intervalMs! * KIT_RETRY.backoffRate!];
      // no upper bound on measured gaps: a loaded machine may start a retry late, which is not a
      // semantic error; the engine's chosen delays are checked against the policy below
      gaps.forEach((g) => expect(g).toBeGreaterThanOrEqual(0));
      if (caps.retryDelays) {
        const retries = (await engine().status(runId)).retries;
        expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
        retries.forEach((r, i) => {
          expect(r.code).toBe('ThrottlingException');
          expect(r.maxDelayMs).toBe(bounds[i]);
          expect(r.delayMs).toBeGreaterThanOrEqual(0);
          expect(r.delayMs).toBeLessThan(bounds[i]!);
          expect(gaps[i]).toBeGreaterThanOrEqual(r.delayMs - 5);
        });
      }
    });

    it('4. retries exhausted: the catch handler receives code, message and details intact', { timeout }, async () => {
      const { outcome, events } = await run('kit-exhausted');
      const out = output(outcome);
      expect(events.filter((e) => e.event === 'start' && e.stage === 'kit-flaky')).toHaveLength(3);
      expect(out.caught).toMatchObject({ code: 'ThrottlingException', message: 'ThrottlingException on attempt 3', details: { provider: 'kit', quota: 7 } });
      expect(out.handled).toEqual({ handled: 'ThrottlingException', message: 'ThrottlingException on attempt 3', details: { provider: 'kit', quota: 7 } });
    });

    it('5. ValidationFailed is not retried and routes to repair', { timeout }, async () => {
      const { outcome, events } = await run('kit-repair', { text: 'no citation here' });
      const out = output(outcome);
      expect(startCounts(events, 'kit-validate').get('validate')).toBe(1);
      expect(out.repair).toEqual({
        handled: 'ValidationFailed',
        message: 'section has no citation',
        details: { issues: [{ path: ['text'], message: 'must cite a source as [n]' }] },
      });
    });

    it.skipIf(!caps.approvals)('6. SafetyCheckFailed is never retried and routes to an approval gate', { timeout }, async () => {
      const probe = createProbeDir();
      const { runId } = await engine().start('kit-safety', { probe });
      const notice = await gateOpen(runId, 'safety');
      expect(notice.payload).toMatchObject({ error: { code: 'SafetyCheckFailed' } });
      expect(startCounts(readProbe(probe), 'kit-flaky').get('generate')).toBe(1);
      await engine().approve(runId, 'safety', { token: notice.token, reviewer: 'qa', comment: 'checked by hand' });
      const out = output(await engine().result(runId, { timeoutMs: timeout }));
      expect(out.review).toMatchObject({ approved: true, comment: 'checked by hand' });
      expect(startCounts(readProbe(probe), 'kit-flaky').get('generate')).toBe(1);
    });

    it('7. map over 20 items with maxConcurrency 3: never more than 3 in flight, results in item order', { timeout }, async () => {
      const items = Array.from({ length: 20 }, (_, i) => i + 1);
      const { outcome, events } = await run('kit-map-concurrency', { items, delayMs: 60, failIndexes: [] });
      const out = output(outcome);
      const hw = highWaterMark(events, 'kit-item');
      expect(hw).toBeLessThanOrEqual(3);
      expect(hw).toBeGreaterThanOrEqual(2);
      expect(out.results).toEqual(items.map((v, index) => ({ status: 'succeeded', output: { index, value: v * 2 } })));
    });

    it.skipIf(!caps.toleratedFailures)('8. a failing item is tolerated up to the threshold and fails the map beyond it', { timeout }, async () => {
      const items = [1, 2, 3, 4, 5, 6];
      const ok = await run('kit-map-tolerated', { items, delayMs: 0, failIndexes: [3] });
      const results = output(ok.outcome).results as { status: string; error?: { code: string } }[];
      expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed', 'succeeded', 'succeeded']);
      expect(results[3]!.error).toMatchObject({ code: 'ItemBroken', message: 'item 3 is broken' });
      const bad = await run('kit-map-tolerated', { items, delayMs: 0, failIndexes: [1, 4] });
      expect(bad.outcome.status).toBe('failed');
      if (bad.outcome.status === 'failed') expect(bad.outcome.error.code).toBe('States.ExceedToleratedFailureThreshold');
    });

    it('9. parallel branches run together and both outputs arrive', { timeout }, async () => {
      const { outcome, events } = await run('kit-parallel');
      expect(output(outcome).branches).toEqual([{ value: 11 }, { value: 21 }]);
      expect(highWaterMark(events, 'kit-step')).toBe(2);
    });

    it('10. choice routes on the state', { timeout }, async () => {
      const fast = await run('kit-choice', { route: 'fast' });
      const slow = await run('kit-choice', { route: 'other' });
      expect(output(fast.outcome).out).toEqual({ value: 101 });
      expect(output(slow.outcome).out).toEqual({ value: 201 });
      expect(fast.events.filter((e) => e.event === 'start').map((e) => e.key)).toEqual(['fast']);
      expect(slow.events.filter((e) => e.event === 'start').map((e) => e.key)).toEqual(['slow']);
    });

    describe.skipIf(!caps.approvals)('11. approval gates', () => {
      it('approve resumes the run; the token is single-use and a forged one is refused', { timeout }, async () => {
        const probe = createProbeDir();
        const { runId } = await engine().start('kit-approval', { probe });
        const notice = await gateOpen(runId, 'review');
        expect(notice.token.length).toBeGreaterThanOrEqual(32);
        expect((await engine().status(runId)).status).toBe('waiting');
        await expect(engine().approve(runId, 'review', { token: 'forged-' + notice.token.slice(7), reviewer: 'x' })).rejects.toThrow(/token/);
        await engine().approve(runId, 'review', { token: notice.token, reviewer: 'alice', comment: 'ok' });
        const out = output(await engine().result(runId, { timeoutMs: timeout }));
        expect(out.review).toEqual({ approved: true, reviewer: 'alice', comment: 'ok', sections: {} });
        expect(out.published).toEqual({ value: 3 });
        await expect(engine().approve(runId, 'review', { token: notice.token, reviewer: 'alice' })).rejects.toThrow();
      });
      it('reject raises a catchable ApprovalRejected', { timeout }, async () => {
        const probe = createProbeDir();
        const { runId } = await engine().start('kit-approval', { probe });
        const notice = await gateOpen(runId, 'review');
        await engine().reject(runId, 'review', { token: notice.token, reviewer: 'bob', comment: 'numbers are wrong' });
        const out = output(await engine().result(runId, { timeoutMs: timeout }));
        expect(out.rejection).toMatchObject({ code: 'ApprovalRejected', details: { gate: 'review', reviewer: 'bob', comment: 'numbers are wrong' } });
        expect(out.handled).toMatchObject({ handled: 'ApprovalRejected' });
        expect(out.published).toEqual({ value: 3 });
      });
      it('no decision before the timeout fails with ApprovalTimedOut', { timeout }, async () => {
        const t0 = Date.now();
        const { outcome } = await run('kit-approval');
        expect(outcome.status).toBe('failed');
        if (outcome.status === 'failed') expect(outcome.error.code).toBe('ApprovalTimedOut');
        expect(Date.now() - t0).toBeGreaterThanOrEqual(KIT_APPROVAL_TIMEOUT_SECONDS * 1000 - 50);
      });
    });

    it.skipIf(!caps.crashResume)('12. crash after k completed steps: only the remaining steps run afterwards', { timeout: timeout * 2 }, async () => {
      const probe = createProbeDir();
      const { runId } = await engine().start('kit-crash', { probe, value: 0, delayMs: 250 });
      // completed = recorded by the engine: a stage that has returned but whose outcome is not
      // recorded yet when the crash lands was in flight, and may run again
      const recorded = await waitFor('three recorded steps', async () => {
        const done = (await engine().status(runId)).attempts.filter((a) => a.status === 'succeeded').map((a) => a.stepPath);
        return done.length >= 3 ? done : undefined;
      });
      await harness.crash!();
      await harness.restart!();
      const out = output(await engine().result(runId, { timeoutMs: timeout }));
      expect(out.s6).toEqual({ value: 6 });
      const counts = startCounts(readProbe(probe));
      const completedBefore = new Set(recorded);
      for (const [key, n] of counts) {
        // a completed step never runs again; the one in flight at the crash may run twice
        expect(n, key).toBeLessThanOrEqual(completedBefore.has(key) ? 1 : 2);
      }
      expect(counts.size).toBe(6);
      expect([...counts.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(7);
    });

    it.skipIf(!caps.redrive)('13. redrive re-runs only the failed steps and map items', { timeout }, async () => {
      const items = [1, 2, 3, 4, 5];
      const first = await run('kit-map-strict', { items, delayMs: 0, failIndexes: [1, 3] });
      expect(first.outcome.status).toBe('failed');
      setProbeFlag(first.probe, 'fixed');
      await engine().redrive(first.runId);
      const out = output(await engine().result(first.runId, { timeoutMs: timeout }));
      expect((out.results as unknown[]).map((r) => (r as { status: string }).status)).toEqual(items.map(() => 'succeeded'));
      const counts = startCounts(readProbe(first.probe));
      const before = startCounts(first.events);
      for (const [key, n] of counts) {
        const failed = key === 'item-1' || key === 'item-3';
        const startedFirstTime = before.get(key) ?? 0;
        expect(n, key).toBe(failed ? startedFirstTime + 1 : Math.max(startedFirstTime, 1));
      }
      expect(counts.get('before') ?? [...counts.entries()].find(([k]) => k.endsWith('before'))?.[1]).toBe(1);
    });

    it('14. a 1 MB output reaches the next stage through the claim check, no payload over its limit', { timeout }, async () => {
      const { outcome, runId } = await run('kit-claim-check');
      const out = output(outcome);
      expect(out.consumed).toEqual({ bytes: 1024 * 1024, intact: true });
      // the run's state holds the reference (result() answers values: scenario 37)
      const held = (await engine().status(runId)).output as Record<string, unknown>;
      expect(JSON.stringify(held).length).toBeLessThan(256 * 1024);
      const big = held.big as Record<string, unknown>;
      expect(isBlobRef(big) || isBlobRef(big.text)).toBe(true);
    });

    it('15. a stage that outlives its timeout fails with States.Timeout', { timeout }, async () => {
      const { outcome } = await run('kit-timeout');
      const out = output(outcome);
      expect(out.timeout).toMatchObject({ code: 'States.Timeout' });
      expect(out.handled).toMatchObject({ handled: 'States.Timeout' });
    });

    it('16. a stage delivered twice writes its blob once', { timeout }, async () => {
      const { outcome, events } = await run('kit-idempotent', { runKey: `k${Date.now()}${Math.random().toString(16).slice(2)}` });
      expect(output(outcome).written).toMatchObject({ key: expect.stringMatching(/section\.txt$/) });
      expect(events.filter((e) => e.event === 'start')).toHaveLength(2);
      expect(events.filter((e) => e.event === 'blob-write')).toHaveLength(1);
    });

    it('17. scale smoke: 200 map items x 3 stages', { timeout: timeout * 3 }, async () => {
      const items = Array.from({ length: 200 }, (_, i) => i);
      const { outcome, events } = await run('kit-scale', { items, delayMs: 0, failIndexes: [] });
      const results = output(outcome).results as { status: string; output: { third: { value: number } } }[];
      expect(results).toHaveLength(200);
      expect(results.every((r, i) => r.status === 'succeeded' && r.output.third.value === i * 8)).toBe(true);
      expect(events.filter((e) => e.event === 'start')).toHaveLength(600);
    });

    fatalAndReviewerScenarios({ caps, timeout, engine, run, output, gateOpen });
    sectionReviewScenarios({ caps, timeout, engine, run, output, gateOpen });
    runIdScenarios({ caps, timeout, engine, run, output, gateOpen });
    apiErrorScenarios({ caps, timeout, engine, run, output, gateOpen });
    semanticsScenarios({ caps, timeout, engine, run, output, gateOpen });
    mapToleranceScenarios({ caps, timeout, engine, run, output, gateOpen });
    limitsScenarios({ caps, timeout, engine, run, output, gateOpen });
    versionScenarios({ caps, timeout, engine, run, output, gateOpen, deployer: () => (harness.deploy ? (which) => deployKit(harness, which) : undefined) });
    resultScenarios({ caps, timeout, engine, run, output, gateOpen, runEvents });
  });
}

/** Where a run that did not end stands, for the failure message of a kit scenario. */
async function stuckSummary(engine: Engine, runId: string, events: readonly ProbeEvent[]): Promise<string> {
  try {
    const info = await engine.status(runId);
    const by = (status: string): number => info.attempts.filter((a) => a.status === status).length;
    const running = info.attempts.filter((a) => a.status === 'running').map((a) => `${a.stepPath}#${a.attempt} since ${a.startedAt}`);
    const last = [...info.attempts].sort((a, b) => (a.finishedAt ?? a.startedAt).localeCompare(b.finishedAt ?? b.startedAt)).at(-1);
    return (
      `status ${info.status} (updated ${info.updatedAt}); attempts: ${by('succeeded')} succeeded, ${by('failed')} failed, ${running.length} running` +
      `${running.length ? ` (${running.slice(0, 5).join(', ')})` : ''}; last: ${last ? `${last.stepPath}#${last.attempt} ${last.status} at ${last.finishedAt ?? last.startedAt}` : 'none'}; ` +
      `stage starts seen: ${events.filter((e) => e.event === 'start').length}; open reviews: ${info.pendingReviews.length}`
    );
  } catch (e) {
    return `status unavailable: ${(e as Error).message}`;
  }
}

/** Deploys a kit pipeline set through the harness. */
async function deployKit(harness: Harness, which: KitVersionDeploy | 'restore'): Promise<void> {
  await harness.deploy!(
    which === 'restore' ? { pipelines: conformancePipelines, set: 'conformance' } : { pipelines: [...KIT_VERSION_DEPLOYS[which]], set: which },
  );
}
