import { z } from 'zod';
import { IR_VERSION, type ApprovalIR, type CatchIR, type MapIR, type PipelineIR, type Predicate, type StepIR, type TaskIR, type WaitIR } from './ir.js';
import type { DataPath, Selection } from './paths.js';
import type { RetryPolicy } from './retry.js';
import type { AnyStage } from './stage.js';
import { PipelineValidationError, validatePipelineIR, type ValidateOptions } from './validate.js';

/**
 * A catch clause in the builder: codes, where the error goes, and the handler steps. The caught
 * error is written as `{ code, message, retryable, details? }` (a `SerializedError`) at
 * `resultPath`, the `then` steps run, and the run goes on after the failed step. A code that
 * nothing in the step can throw is refused by `build()`: declare a stage's codes in its `throws`.
 */
export interface CatchOptions {
  /** Codes caught; `States.ALL` catches all but the fatal codes, `States.Runtime` and `States.DataLimitExceeded`. */
  errors: string[];
  /** Where the `{ code, message, retryable, details? }` goes; `null` drops it. @default '$.error' */
  resultPath?: DataPath | null;
  then: (b: StepsBuilder) => StepsBuilder;
}

/** Options common to task, map and parallel steps. */
export interface GuardOptions {
  resultPath?: DataPath | null;
  retry?: RetryPolicy[];
  catch?: CatchOptions[];
  comment?: string;
}

/** Options of a task step. */
export interface TaskOptions extends GuardOptions {
  input?: Selection;
  timeoutMs?: number;
}

/** Options of a map step. */
export type MapOptions = GuardOptions & Pick<MapIR, 'items' | 'itemSelector' | 'maxConcurrency' | 'toleratedFailurePercentage' | 'toleratedFailureCount'>;

/**
 * Options of an approval step: the {@link ApprovalIR} fields an author sets, its gate named after
 * the step unless given, its catch handlers built like a task's.
 */
export interface ApprovalOptions extends Pick<ApprovalIR, 'timeoutSeconds' | 'reviewer' | 'reviewerPath' | 'sectionsPath' | 'payload' | 'resultPath'> {
  /** Gate name used by approve / reject. @default the step's id */
  gate?: string;
  catch?: CatchOptions[];
}

type Body = (b: StepsBuilder) => StepsBuilder;
type Guard = Pick<TaskIR, 'resultPath' | 'retry' | 'catch' | 'comment'>;

/**
 * Builds a list of steps. Every method appends one step and returns the builder; nested
 * pipelines (map items, branches, catch handlers) are built by callbacks.
 */
export class StepsBuilder {
  /** @internal */
  readonly steps: StepIR[] = [];
  /** @internal */
  constructor(readonly stages: Map<string, AnyStage>) {}

  /** Appends a task that runs `stage`. */
  task(id: string, stage: AnyStage, options: TaskOptions = {}): this {
    this.register(stage);
    const step: TaskIR = { kind: 'task', id, stage: stage.name, ...this.guard(options) };
    if (options.input !== undefined) step.input = options.input;
    if (options.timeoutMs !== undefined) step.timeoutMs = options.timeoutMs;
    return this.push(step);
  }

  /**
   * Appends a map that runs `body` once per item of `options.items`. Its output is an array in
   * item order of `{ status: 'succeeded', output }` or `{ status: 'failed', error }` (`error` is
   * the item's own `SerializedError`, `{ code, message, retryable, details? }`). An item result
   * carries no index: its position in the array is its index (`results[3]` is item 3, whose step
   * paths are `<id>[3]/…` in `status().attempts`), the same on every engine.
   *
   * Without `toleratedFailureCount` / `toleratedFailurePercentage`, the first item that fails
   * fails the map with that item's own error, on every engine, as a Step Functions INLINE Map
   * state fails with its failed iteration's error: a `catch` on the map naming the item's code
   * (`ModelQuotaExhausted`, `ValidationFailed`…) catches it, the error written at its
   * `resultPath` as for a task. No item starts after it; items in flight start no further step.
   * A fatal code fails the map the same way whatever the tolerance.
   *
   * With a tolerance (of the run's item count; both: either one passed fails the map), failed
   * items are recorded in place and counted as they end, as Step Functions' DISTRIBUTED Map Run
   * counts them, on every engine; as soon as they pass the threshold the map fails with
   * `States.ExceedToleratedFailureThreshold` and no `details`; its message,
   * `map "<id>": <n> of <total> items failed, more than tolerated`, counts the failures that
   * passed it (tolerated + 1).
   * No item starts after; items in flight start no further step or attempt (a stage call
   * already running finishes, and its result is kept). The map's `catch` sees that error.
   * `redrive` then runs the failed items again and the never-started ones for the first time;
   * completed items are not run again. On Step Functions an INLINE Map's iterations share no
   * state: the compiled machine stops at once when one failure alone passes the threshold
   * (count 0, or a percentage under one item), but with a threshold that tolerates failures it
   * runs every item and fails after the Map state (its `catch` does not see it there; the
   * compiler warns). A map compiled to a DISTRIBUTED Map (over the compiler's
   * `distributedThreshold` expected items) without a tolerance fails there with
   * `States.ExceedToleratedFailureThreshold` (the service fails the Map Run): declare
   * `toleratedFailureCount: 0` to get that code on every engine.
   */
  map(id: string, options: MapOptions, body: Body): this {
    const { items, itemSelector, maxConcurrency, toleratedFailurePercentage, toleratedFailureCount, ...guard } = options;
    const step: MapIR = { kind: 'map', id, items, steps: this.sub(body), ...this.guard(guard) };
    if (itemSelector !== undefined) step.itemSelector = itemSelector;
    if (maxConcurrency !== undefined) step.maxConcurrency = maxConcurrency;
    if (toleratedFailurePercentage !== undefined) step.toleratedFailurePercentage = toleratedFailurePercentage;
    if (toleratedFailureCount !== undefined) step.toleratedFailureCount = toleratedFailureCount;
    return this.push(step);
  }

  /** Appends a parallel step; its output is the array of branch outputs. */
  parallel(id: string, options: GuardOptions, branches: Body[]): this {
    return this.push({ kind: 'parallel', id, branches: branches.map((b) => this.sub(b)), ...this.guard(options) });
  }

  /**
   * Appends a choice: the first branch whose predicate holds runs, else `otherwise`; then the run
   * goes on after the choice. Without `otherwise`, a state that matches no branch fails the step
   * with `States.NoChoiceMatched` (as an ASL Choice state without `Default`).
   */
  choice(id: string, branches: { when: Predicate; then: Body }[], otherwise?: Body): this {
    const step: StepIR = { kind: 'choice', id, branches: branches.map((b) => ({ when: b.when, steps: this.sub(b.then) })) };
    if (otherwise) step.otherwise = this.sub(otherwise);
    return this.push(step);
  }

  /** Appends a wait of `seconds`, of the seconds at `secondsPath`, or until a timestamp. */
  wait(id: string, options: Omit<WaitIR, 'kind' | 'id'>): this {
    return this.push({ kind: 'wait', id, ...options });
  }

  /**
   * Appends a human approval gate. On approval it writes
   * `{ approved: true, reviewer: string | null, comment: string | null, sections }` at
   * `resultPath` (absent: it replaces the state), where `sections` holds the decision's
   * per-section verdicts (`{}` without `sectionsPath`). A rejection fails the step with
   * `ApprovalRejected` (details `{ gate, reviewer, comment }`), no decision within
   * `timeoutSeconds` with `ApprovalTimedOut`; both can be caught.
   */
  approval(id: string, options: ApprovalOptions): this {
    const step: ApprovalIR = { kind: 'approval', id, gate: options.gate ?? id, timeoutSeconds: options.timeoutSeconds };
    if (options.reviewer !== undefined) step.reviewer = options.reviewer;
    if (options.reviewerPath !== undefined) step.reviewerPath = options.reviewerPath;
    if (options.sectionsPath !== undefined) step.sectionsPath = options.sectionsPath;
    if (options.payload !== undefined) step.payload = options.payload;
    if (options.resultPath !== undefined) step.resultPath = options.resultPath;
    if (options.catch) step.catch = this.catchers(options.catch);
    return this.push(step);
  }

  /**
   * Appends a loop that runs `body`, then checks `until` (so the body runs at least once), and
   * repeats while it does not hold, at most `maxIterations` bodies; reaching that bound ends the
   * loop without failing. Each iteration's steps have their own step path (`<id>@<n>/…`, from 0,
   * also `ctx.stepPath`); neither the state nor the path context holds an iteration counter.
   */
  loop(id: string, options: { until: Predicate; maxIterations: number }, body: Body): this {
    return this.push({ kind: 'loop', id, steps: this.sub(body), until: options.until, maxIterations: options.maxIterations });
  }

  /** Ends the run, map item or branch successfully. */
  succeed(id: string): this {
    return this.push({ kind: 'succeed', id });
  }

  /** Ends the run, map item or branch with `{ code: error, message: cause, retryable: false }`. */
  fail(id: string, options: { error: string; cause?: string }): this {
    return this.push({ kind: 'fail', id, ...options });
  }

  private push(step: StepIR): this {
    this.steps.push(step);
    return this;
  }

  private sub(body: Body): StepIR[] {
    return body(new StepsBuilder(this.stages)).steps;
  }

  private register(stage: AnyStage): void {
    const known = this.stages.get(stage.name);
    if (known && known !== stage) throw new Error(`two different stages are named "${stage.name}"`);
    this.stages.set(stage.name, stage);
  }

  private catchers(list: CatchOptions[]): CatchIR[] {
    return list.map((c) => ({ errors: c.errors, resultPath: c.resultPath === undefined ? '$.error' : c.resultPath, steps: this.sub(c.then) }));
  }

  private guard(options: GuardOptions): Guard {
    const out: Guard = {};
    if (options.resultPath !== undefined) out.resultPath = options.resultPath;
    if (options.retry) out.retry = options.retry;
    if (options.catch) out.catch = this.catchers(options.catch);
    if (options.comment) out.comment = options.comment;
    return out;
  }
}

/**
 * A runnable pipeline: its JSON IR, the stages it names and the schema of its input.
 * Engines take this; the compiler and interpreters read `ir`.
 */
export interface Pipeline<TInput = unknown> {
  readonly kind: 'baton.pipeline';
  readonly name: string;
  readonly ir: PipelineIR;
  readonly stages: ReadonlyMap<string, AnyStage>;
  readonly input: z.ZodType<TInput> | undefined;
}

/** Any pipeline, whatever its input type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPipeline = Pipeline<any>;

/** Builder returned by {@link definePipeline}; finish with `build()`. */
export class PipelineBuilder<TInput> extends StepsBuilder {
  /** @internal */
  constructor(private readonly meta: { name: string; version: number; input?: z.ZodType<TInput> }) {
    super(new Map());
  }

  /** Validates the pipeline and returns it; throws {@link PipelineValidationError} listing every issue. */
  build(options: ValidateOptions = {}): Pipeline<TInput> {
    const ir: PipelineIR = { irVersion: IR_VERSION, name: this.meta.name, version: this.meta.version, steps: this.steps };
    if (this.meta.input) ir.inputSchema = z.toJSONSchema(this.meta.input, { unrepresentable: 'any' });
    const issues = validatePipelineIR(ir, this.stages, options);
    if (issues.length) throw new PipelineValidationError(this.meta.name, issues);
    return { kind: 'baton.pipeline', name: this.meta.name, ir, stages: this.stages, input: this.meta.input };
  }
}

/**
 * Starts a pipeline definition.
 *
 * @example
 * ```ts
 * const pipeline = definePipeline({ name: 'hello', version: 1, input: z.object({ text: z.string() }) })
 *   .task('shout', upper, { input: { 'text.$': '$.text' }, resultPath: '$.shouted' })
 *   .build();
 * ```
 */
export function definePipeline<TSchema extends z.ZodType = z.ZodType<unknown>>(meta: {
  name: string;
  version: number;
  input?: TSchema;
}): PipelineBuilder<z.output<TSchema>> {
  return new PipelineBuilder<z.output<TSchema>>(meta as { name: string; version: number; input?: z.ZodType<z.output<TSchema>> });
}

/** Rebuilds a pipeline from its JSON IR and the stages it names (e.g. in a worker process). */
export function pipelineFromIR(ir: PipelineIR, stages: Iterable<AnyStage>, input?: z.ZodType): AnyPipeline {
  const map = new Map([...stages].map((s) => [s.name, s]));
  const issues = validatePipelineIR(ir, map);
  if (issues.length) throw new PipelineValidationError(ir.name, issues);
  return { kind: 'baton.pipeline', name: ir.name, ir, stages: map, input };
}
