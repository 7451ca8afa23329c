import { isBlobRef } from '../blob-ref.js';
import { catches } from '../catching.js';
import { StageError, isFatalCode, serializeError, type SerializedError } from '../errors.js';
import type { ApprovalIR, CatchIR, LoopIR, MapIR, ParallelIR, PipelineIR, StepIR, TaskIR, WaitIR } from '../ir.js';
import { readPath, select, writePath, type PathContext } from '../paths.js';
import { evaluatePredicate } from '../predicate.js';
import { baseDelayMs, decideRetry, seededRandom, type RandomSource } from '../retry.js';
import { inputHash } from './hash.js';
import type { Effects, RunOutcome, StageMeta } from './types.js';

/**
 * A map or parallel result whose JSON is longer than this (characters) is claim-checked as a
 * whole: the state carries one reference, resolved where it is read (a task's input, a map's
 * items). Its items may each stay under the per-value claim-check threshold while together they
 * pass what an engine carries (Temporal: 2 MB per payload, 4 MB per gRPC message; Step Functions:
 * 256 KB per state), so half Step Functions' state limit leaves room for the state around it.
 */
export const AGGREGATE_CLAIM_CHECK_CHARS = 128 * 1024;

/** Thrown inside the interpreter to unwind to the nearest catch. */
class StepFailure extends Error {
  constructor(readonly error: SerializedError) {
    super(error.message);
  }
}

/**
 * Thrown inside a parallel branch that a sibling's failure stopped, or inside a map item in flight
 * when its map failed: it unwinds the branch or item without running catchers, recording a
 * failure or retrying, as Step Functions stops the other branches of a failed Parallel state and
 * aborts the child executions of a failed Map Run.
 */
class Stopped extends Error {
  constructor() {
    super('stopped: a sibling parallel branch failed');
  }
}

/** Raised when a branch fails: the branches under it stop at their next step or attempt. */
class StopSignal {
  stopped = false;
  constructor(private readonly parent?: StopSignal) {}
  get isStopped(): boolean {
    return this.stopped || (this.parent?.isStopped ?? false);
  }
}

interface Scope {
  prefix: string;
  context: PathContext;
  /** Set inside parallel branches and map items. */
  stop?: StopSignal;
  /** Inside the items of a map with a lowered claim-check threshold (`itemClaimCheckThresholds`): the lowest. */
  claimCheckThreshold?: number;
}

interface BlockResult {
  state: unknown;
  /** A succeed step ended the enclosing scope. */
  ended: boolean;
}

/** What {@link interpret} needs besides the effects. */
export interface InterpretOptions {
  runId: string;
  /** Retry policies and timeouts of the stages the IR names. */
  stages: Readonly<Record<string, StageMeta>>;
  /**
   * Map step id → the claim-check threshold of the tasks in its items, passed on in their
   * `TaskRequest.claimCheckThreshold`: for an engine with a state limit (core's
   * `mapItemClaimCheckThresholds`, as the compiled Step Functions machine uses).
   */
  itemClaimCheckThresholds?: Readonly<Record<string, number>>;
}

/**
 * Interprets a pipeline IR with ASL semantics: data paths, retriers, catchers, map with bounded
 * concurrency and tolerated failures, parallel, choice, wait, approval and loops. Every effect
 * goes through `effects`, keyed by deterministic step paths, so engines can journal and replay.
 * Pure JavaScript without Node built-ins: it runs inside Temporal's workflow sandbox as is.
 */
export async function interpret(ir: PipelineIR, input: unknown, effects: Effects, options: InterpretOptions): Promise<RunOutcome> {
  const runner = new Runner(effects, options);
  try {
    const result = await runner.block(ir.steps, input, { prefix: '', context: { Execution: { Id: options.runId, Name: options.runId } } });
    return { status: 'succeeded', output: result.state };
  } catch (e) {
    if (e instanceof StepFailure) return { status: 'failed', error: e.error };
    return { status: 'failed', error: serializeError(e) };
  }
}

class Runner {
  /**
   * Last attempt number used per task step path. When a retried parallel or map runs a task
   * again, its attempts continue from there, so every attempt has its own journal key and a
   * failure recorded in an earlier round is not replayed as the outcome of the new one.
   * Rebuilt identically on replay, since replay walks the same rounds.
   */
  private readonly lastAttempt = new Map<string, number>();

  constructor(
    private readonly fx: Effects,
    private readonly options: InterpretOptions,
  ) {}

  async block(steps: readonly StepIR[], state: unknown, scope: Scope): Promise<BlockResult> {
    let current = state;
    for (const step of steps) {
      if (scope.stop?.isStopped) throw new Stopped();
      const result = await this.guarded(step, current, scope);
      if (result.ended) return result;
      current = result.state;
    }
    return { state: current, ended: false };
  }

  private async guarded(step: StepIR, state: unknown, scope: Scope): Promise<BlockResult> {
    const stepPath = scope.prefix + step.id;
    this.fx.emit?.({ type: 'step-started', stepPath, kind: step.kind });
    try {
      const result = await this.step(step, state, scope);
      this.fx.emit?.({ type: 'step-succeeded', stepPath, kind: step.kind });
      return result;
    } catch (e) {
      if (e instanceof Stopped) throw e;
      const error = e instanceof StepFailure ? e.error : serializeError(e);
      this.fx.emit?.({ type: 'step-failed', stepPath, kind: step.kind, error });
      const catcher = 'catch' in step ? findCatcher(step.catch, error.code) : undefined;
      if (!catcher) throw e instanceof StepFailure ? e : new StepFailure(error);
      const caughtState = writePath(state, catcher.resultPath === undefined ? '$.error' : catcher.resultPath, error);
      return this.block(catcher.steps, caughtState, scope);
    }
  }

  private async step(step: StepIR, state: unknown, scope: Scope): Promise<BlockResult> {
    switch (step.kind) {
      case 'task':
        return { state: writePath(state, step.resultPath, await this.task(step, state, scope)), ended: false };
      case 'map':
        return {
          state: writePath(state, step.resultPath, await this.whole(step, scope, await this.retrying(step, scope, () => this.map(step, state, scope)))),
          ended: false,
        };
      case 'parallel':
        return {
          state: writePath(state, step.resultPath, await this.whole(step, scope, await this.retrying(step, scope, () => this.parallel(step, state, scope)))),
          ended: false,
        };
      case 'choice': {
        const branch = step.branches.find((b) => evaluatePredicate(b.when, state));
        const steps = branch ? branch.steps : step.otherwise;
        if (!steps) throw new StepFailure(noChoice(step.id));
        return this.block(steps, state, scope);
      }
      case 'wait':
        await this.fx.sleep(scope.prefix + step.id, this.waitMs(step, state, scope));
        return { state, ended: false };
      case 'approval':
        return { state: writePath(state, step.resultPath, await this.approval(step, state, scope)), ended: false };
      case 'loop':
        return this.loop(step, state, scope);
      case 'succeed':
        return { state, ended: true };
      case 'fail':
        throw new StepFailure({ code: step.error, message: step.cause ?? `failed at step "${step.id}"`, retryable: false });
    }
  }

  /** A map's or parallel's result, claim-checked as a whole when it is longer than {@link AGGREGATE_CLAIM_CHECK_CHARS}. */
  private async whole(step: MapIR | ParallelIR, scope: Scope, value: unknown[]): Promise<unknown> {
    if (step.resultPath === null || JSON.stringify(value).length <= AGGREGATE_CLAIM_CHECK_CHARS) return value;
    return this.fx.store(value, scope.prefix + step.id);
  }

  private async task(step: TaskIR, state: unknown, scope: Scope): Promise<unknown> {
    const stepPath = scope.prefix + step.id;
    const input = select(state, step.input, scope.context);
    const hash = inputHash(input);
    const done = await this.fx.completed(stepPath, hash);
    if (done) {
      this.fx.emit?.({ type: 'task-replayed', stepPath });
      return done.output;
    }
    const meta = this.options.stages[step.stage] ?? {};
    const policies = step.retry ?? meta.retry ?? [];
    const timeoutMs = step.timeoutMs ?? meta.timeoutMs;
    const retries: number[] = policies.map(() => 0);
    let random: RandomSource | undefined;
    for (let attempt = (this.lastAttempt.get(stepPath) ?? 0) + 1; ; attempt++) {
      // a retry of a task whose parallel branch was stopped while it waited is not made
      if (scope.stop?.isStopped) throw new Stopped();
      this.lastAttempt.set(stepPath, attempt);
      const request = {
        stepPath,
        stepId: step.id,
        stage: step.stage,
        input,
        attempt,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(scope.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: scope.claimCheckThreshold }),
      };
      const outcome = await this.fx.runTask(request, hash);
      if (outcome.ok) return outcome.output;
      random ??= seededRandom(`${this.options.runId}/${stepPath}`);
      const decision = decideRetry(policies, outcome.error.code, retries, random, outcome.error.retryable);
      if (!decision.retry) throw new StepFailure(outcome.error);
      retries[decision.retrierIndex] = decision.retryNumber;
      this.fx.emit?.({
        type: 'retry-scheduled',
        stepPath,
        attempt,
        code: outcome.error.code,
        delayMs: decision.delayMs,
        maxDelayMs: baseDelayMs(policies[decision.retrierIndex]!, decision.retryNumber),
      });
      await this.fx.sleep(`${stepPath}#${attempt}:retry`, decision.delayMs);
    }
  }

  /**
   * Runs a map or parallel step under its own retriers (ASL `Retry` on Map / Parallel states).
   * A new round re-enters the branches or items: tasks that completed are replayed from the
   * journal, failed ones run again.
   */
  private async retrying<T>(step: MapIR | ParallelIR, scope: Scope, body: () => Promise<T>): Promise<T> {
    const policies = step.retry ?? [];
    if (policies.length === 0) return body();
    const stepPath = scope.prefix + step.id;
    const retries: number[] = policies.map(() => 0);
    let random: RandomSource | undefined;
    for (let round = 1; ; round++) {
      try {
        return await body();
      } catch (e) {
        if (e instanceof Stopped) throw e;
        const error = e instanceof StepFailure ? e.error : serializeError(e);
        random ??= seededRandom(`${this.options.runId}/${stepPath}`);
        const decision = decideRetry(policies, error.code, retries, random, error.retryable);
        if (!decision.retry) throw e instanceof StepFailure ? e : new StepFailure(error);
        retries[decision.retrierIndex] = decision.retryNumber;
        const maxDelayMs = baseDelayMs(policies[decision.retrierIndex]!, decision.retryNumber);
        this.fx.emit?.({ type: 'retry-scheduled', stepPath, attempt: round, code: error.code, delayMs: decision.delayMs, maxDelayMs });
        await this.fx.sleep(`${stepPath}#${round}:retry`, decision.delayMs);
      }
    }
  }

  private async map(step: MapIR, state: unknown, scope: Scope): Promise<unknown[]> {
    const mapPath = scope.prefix + step.id;
    const items = await this.fx.resolve(readPath(state, step.items, scope.context));
    if (!Array.isArray(items)) {
      throw new StepFailure(runtime(`map "${step.id}": ${step.items} is not an array (got ${typeName(items)})`, { path: step.items }));
    }
    const results: unknown[] = new Array(items.length);
    const limit = step.maxConcurrency && step.maxConcurrency > 0 ? step.maxConcurrency : items.length;
    const lowered = this.options.itemClaimCheckThresholds?.[step.id];
    const claimCheckThreshold = lowered === undefined ? scope.claimCheckThreshold : Math.min(lowered, scope.claimCheckThreshold ?? lowered);
    // raised when the map fails: its items in flight start no further step or attempt (Step Functions
    // aborts the child executions of a failed Map Run) and no item starts after
    const stop = new StopSignal(scope.stop);
    let failed = 0;
    let next = 0;
    // failures counted when the threshold was passed: the smallest count over it, whatever was in flight
    let exceeded: number | undefined;
    // the failure that fails the map with the item's own error: any failure of a map that declares no
    // tolerance (as an INLINE Map state fails with its failed iteration's error), else a fatal one
    let itemError: SerializedError | undefined;
    const tolerant = step.toleratedFailureCount !== undefined || step.toleratedFailurePercentage !== undefined;
    const runItem = async (index: number): Promise<void> => {
      const value: unknown = items[index];
      const context: PathContext = { ...scope.context, Map: { Item: { Index: index, Value: value } } };
      const itemScope: Scope = { prefix: `${mapPath}[${index}]/`, context, stop, ...(claimCheckThreshold === undefined ? {} : { claimCheckThreshold }) };
      try {
        const itemInput = step.itemSelector === undefined ? value : select(state, step.itemSelector, context);
        const result = await this.block(step.steps, itemInput, itemScope);
        results[index] = { status: 'succeeded', output: result.state };
      } catch (e) {
        if (e instanceof Stopped) return;
        const error = e instanceof StepFailure ? e.error : serializeError(e);
        results[index] = { status: 'failed', error };
        failed++;
        if (!tolerant || isFatalCode(error.code)) itemError ??= error;
        else if (exceeded === undefined && !withinTolerance(step, failed, items.length)) exceeded = failed;
        if (itemError || exceeded !== undefined) stop.stopped = true;
      }
    };
    const worker = async (): Promise<void> => {
      while (!stop.isStopped && next < items.length) await runItem(next++);
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    if (scope.stop?.isStopped) throw new Stopped();
    if (itemError) throw new StepFailure(itemError);
    if (exceeded !== undefined) throw new StepFailure(toleranceExceeded(step.id, exceeded, items.length));
    return results;
  }

  /**
   * Runs the branches together. The first branch to fail fails the parallel step with its error
   * and stops the others (Step Functions stops the branches of a failed Parallel state): they
   * start no further step, attempt or map item; a step in flight finishes first, and the step
   * fails once every branch has settled.
   */
  private async parallel(step: ParallelIR, state: unknown, scope: Scope): Promise<unknown[]> {
    const stop = new StopSignal(scope.stop);
    let failure: unknown;
    const settled = await Promise.allSettled(
      step.branches.map((steps, i) =>
        this.block(steps, state, { ...scope, prefix: `${scope.prefix}${step.id}.${i}/`, stop }).catch((e: unknown) => {
          if (!(e instanceof Stopped)) {
            failure ??= e;
            stop.stopped = true;
          }
          throw e;
        }),
      ),
    );
    if (failure !== undefined) throw failure instanceof StepFailure ? failure : new StepFailure(serializeError(failure));
    // every rejection is a Stopped: an enclosing parallel stopped this one
    const stopped = settled.find((s) => s.status === 'rejected');
    if (stopped) throw (stopped as PromiseRejectedResult).reason;
    return settled.map((s) => (s as PromiseFulfilledResult<BlockResult>).value.state);
  }

  private async approval(step: ApprovalIR, state: unknown, scope: Scope): Promise<unknown> {
    const payload = step.payload === undefined ? state : select(state, step.payload, scope.context);
    const request = { stepPath: scope.prefix + step.id, gate: step.gate, timeoutSeconds: step.timeoutSeconds, payload };
    const reviewer = this.reviewer(step, state, scope);
    const sections = this.sections(step, state, scope);
    const outcome = await this.fx.approval({ ...request, ...(reviewer === undefined ? {} : { reviewer }), ...(sections === undefined ? {} : { sections }) });
    if (outcome.decision === 'approved') {
      return { approved: true, reviewer: outcome.reviewer ?? null, comment: outcome.comment ?? null, sections: outcome.sections ?? {} };
    }
    if (outcome.decision === 'rejected') {
      throw new StepFailure({
        code: 'ApprovalRejected',
        message: `gate "${step.gate}" rejected${outcome.reviewer ? ` by ${outcome.reviewer}` : ''}${outcome.comment ? `: ${outcome.comment}` : ''}`,
        retryable: false,
        details: { gate: step.gate, reviewer: outcome.reviewer ?? null, comment: outcome.comment ?? null },
      });
    }
    throw new StepFailure({
      code: 'ApprovalTimedOut',
      message: `gate "${step.gate}" was not decided within ${step.timeoutSeconds} s`,
      retryable: false,
      details: { gate: step.gate, timeoutSeconds: step.timeoutSeconds },
    });
  }

  /**
   * The reviewer a gate is assigned to: its `reviewer`, or the string at its `reviewerPath`
   * (`null` there leaves the gate unassigned; a missing path is `States.Runtime`, as Step
   * Functions fails on a missing `.$` path).
   */
  private reviewer(step: ApprovalIR, state: unknown, scope: Scope): string | undefined {
    if (step.reviewerPath === undefined) return step.reviewer;
    const value = readPath(state, step.reviewerPath, scope.context);
    if (value === null || typeof value === 'string') return value ?? undefined;
    throw new StepFailure(
      runtime(`approval "${step.id}": ${step.reviewerPath} is not a reviewer (a string, or null for anyone); got ${typeName(value)}`, {
        path: step.reviewerPath,
      }),
    );
  }

  /** The section ids at a gate's `sectionsPath` (a string array; anything else is `States.Runtime`). */
  private sections(step: ApprovalIR, state: unknown, scope: Scope): string[] | undefined {
    if (step.sectionsPath === undefined) return undefined;
    const value = readPath(state, step.sectionsPath, scope.context);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [...(value as string[])];
    throw new StepFailure(
      runtime(`approval "${step.id}": ${step.sectionsPath} is not a list of section ids (strings); got ${typeName(value)}`, { path: step.sectionsPath }),
    );
  }

  private async loop(step: LoopIR, state: unknown, scope: Scope): Promise<BlockResult> {
    let current = state;
    for (let i = 0; i < step.maxIterations; i++) {
      const result = await this.block(step.steps, current, { ...scope, prefix: `${scope.prefix}${step.id}@${i}/` });
      if (result.ended) return result;
      current = result.state;
      if (evaluatePredicate(step.until, current)) break;
    }
    return { state: current, ended: false };
  }

  private waitMs(step: WaitIR, state: unknown, scope: Scope): number {
    if (step.seconds !== undefined) return step.seconds * 1000;
    if (step.secondsPath !== undefined) {
      const v = readPath(state, step.secondsPath, scope.context);
      if (typeof v !== 'number' || v < 0) throw new StepFailure(runtime(`wait "${step.id}": ${step.secondsPath} is not a number of seconds`, {}));
      return v * 1000;
    }
    const at = Date.parse(step.until ?? '');
    if (Number.isNaN(at)) throw new StepFailure(runtime(`wait "${step.id}": "${step.until}" is not a timestamp`, {}));
    return Math.max(0, at - this.fx.now());
  }
}

/** The first catcher that catches `code` (see core's `catches`: `States.ALL` leaves fatal codes and `States.Runtime` uncaught). */
function findCatcher(catchers: CatchIR[] | undefined, code: string): CatchIR | undefined {
  return catchers?.find((c) => catches(c.errors, code));
}

/**
 * Whether `failed` failed items out of `total` are within the tolerated failures of a map that
 * declares some: at most `toleratedFailureCount` and at most `toleratedFailurePercentage` % of
 * `total` (both when both are set).
 */
function withinTolerance(step: MapIR, failed: number, total: number): boolean {
  const byCount = step.toleratedFailureCount;
  const byPct = step.toleratedFailurePercentage;
  if (byCount !== undefined && failed > byCount) return false;
  return byPct === undefined || (failed / total) * 100 <= byPct;
}

/**
 * The error of a map whose failed items passed its threshold: `failed` is the count that passed
 * it (the tolerated count plus one), the same on every engine whatever else was in flight. No
 * `details`: a compiled Step Functions machine raises it from a Fail state, which has none.
 */
function toleranceExceeded(id: string, failed: number, total: number): SerializedError {
  return {
    code: 'States.ExceedToleratedFailureThreshold',
    message: `map "${id}": ${failed} of ${total} items failed, more than tolerated`,
    retryable: false,
  };
}

function runtime(message: string, details: Record<string, unknown>): SerializedError {
  return serializeError(new StageError('States.Runtime', message, { details }));
}

function noChoice(id: string): SerializedError {
  return { code: 'States.NoChoiceMatched', message: `choice "${id}": no branch matched and there is no otherwise`, retryable: false };
}

function typeName(v: unknown): string {
  if (isBlobRef(v)) return 'an unresolved blob reference';
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}
