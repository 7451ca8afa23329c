import type { DataPath, Selection } from './paths.js';
import type { RetryPolicy } from './retry.js';

/** Version of the IR format; bumped when a node's shape changes incompatibly. */
export const IR_VERSION = 1;

/**
 * A declarative predicate over the run state, used by `choice` and `loop`. Compiles to an
 * ASL Choice rule.
 */
export type Predicate =
  | { path: DataPath; op: 'eq' | 'ne'; value: string | number | boolean | null }
  | { path: DataPath; op: 'gt' | 'gte' | 'lt' | 'lte'; value: number }
  | { path: DataPath; op: 'present' | 'absent' }
  | { and: Predicate[] }
  | { or: Predicate[] }
  | { not: Predicate };

/** A handler for failures of a step: which codes, where the error goes, and what runs next. */
export interface CatchIR {
  /** Codes caught; `States.ALL` catches anything. */
  errors: string[];
  /** Where the `{ code, message, retryable, details }` of the error is written. @default '$.error' */
  resultPath?: DataPath | null;
  /** Steps run after the catch; then the run continues after the failed step. */
  steps: StepIR[];
}

interface Common {
  /** Unique within the pipeline; used as the step path segment and the ASL state name. */
  id: string;
  /** Human-readable description shown in dashboards. */
  comment?: string;
}

interface Guarded {
  retry?: RetryPolicy[];
  catch?: CatchIR[];
  /** Where the step's output goes in the state (ASL `ResultPath`). @default '$' */
  resultPath?: DataPath | null;
}

/** Runs one stage through `invokeStage`. */
export interface TaskIR extends Common, Guarded {
  kind: 'task';
  /** Name of a stage registered with the pipeline. */
  stage: string;
  /** Selection of the stage input from the state. @default the whole state */
  input?: Selection;
  /** Overrides the stage's own timeout. */
  timeoutMs?: number;
}

/** Runs a sub-pipeline once per item of an array, with bounded concurrency. */
export interface MapIR extends Common, Guarded {
  kind: 'map';
  /** Path of the array to iterate. */
  items: DataPath;
  /** Input of each item's sub-pipeline; may read `$$.Map.Item.Value` and `$$.Map.Item.Index`. @default the item */
  itemSelector?: Selection;
  /** Most items in flight at once; 0 = no limit. @default 0 */
  maxConcurrency?: number;
  /** Percentage of the items that may fail before the map fails (see `StepsBuilder.map`). @default 0 */
  toleratedFailurePercentage?: number;
  /** Number of failed items tolerated before the map fails, at once (see `StepsBuilder.map`). @default 0 */
  toleratedFailureCount?: number;
  /** The per-item sub-pipeline; its final state is the item's output. */
  steps: StepIR[];
}

/** Runs branches concurrently; the output is the array of branch outputs. */
export interface ParallelIR extends Common, Guarded {
  kind: 'parallel';
  branches: StepIR[][];
}

/** Runs the first branch whose predicate holds, else `otherwise`. */
export interface ChoiceIR extends Common {
  kind: 'choice';
  branches: { when: Predicate; steps: StepIR[] }[];
  otherwise?: StepIR[];
}

/** Waits a number of seconds, or until a timestamp. */
export interface WaitIR extends Common {
  kind: 'wait';
  seconds?: number;
  secondsPath?: DataPath;
  until?: string;
}

/** Pauses the run until a reviewer approves or rejects, or the timeout passes. */
export interface ApprovalIR extends Common {
  kind: 'approval';
  /** Gate name used by approve / reject. */
  gate: string;
  timeoutSeconds: number;
  /** If set, only this reviewer may decide. Excludes `reviewerPath`. */
  reviewer?: string;
  /**
   * Path of the reviewer in the state when the gate opens (`$.reviewerId`): a string assigns the
   * gate to that reviewer (only they may decide, as with `reviewer`), `null` leaves it unassigned,
   * a missing path fails with `States.Runtime`. Excludes `reviewer`.
   */
  reviewerPath?: DataPath;
  /**
   * Path of the section ids (a string array) in the state when the gate opens: a decision may
   * then give a verdict per section, and the step's output carries them as `sections`. A missing
   * path or a value that is not an array of strings fails with `States.Runtime`.
   */
  sectionsPath?: DataPath;
  /** What the reviewer is shown. @default the whole state */
  payload?: Selection;
  resultPath?: DataPath | null;
  catch?: CatchIR[];
}

/** Repeats a body until a predicate holds or `maxIterations` bodies ran. */
export interface LoopIR extends Common {
  kind: 'loop';
  steps: StepIR[];
  until: Predicate;
  maxIterations: number;
}

/** Ends the run (or the current map item / branch) successfully. */
export interface SucceedIR extends Common {
  kind: 'succeed';
}

/** Ends the run (or the current map item / branch) with an error. */
export interface FailIR extends Common {
  kind: 'fail';
  error: string;
  cause?: string;
}

/** Any step of the IR. */
export type StepIR = TaskIR | MapIR | ParallelIR | ChoiceIR | WaitIR | ApprovalIR | LoopIR | SucceedIR | FailIR;

/** The JSON-serialisable form of a pipeline: what engines interpret and the compiler compiles. */
export interface PipelineIR {
  irVersion: typeof IR_VERSION;
  name: string;
  version: number;
  /** JSON Schema of the run input, when the pipeline declared one. */
  inputSchema?: unknown;
  steps: StepIR[];
}

/** Calls `fn` for every step, depth first, with the chain of ancestor ids. */
export function walkSteps(steps: readonly StepIR[], fn: (step: StepIR, parents: string[]) => void, parents: string[] = []): void {
  for (const step of steps) {
    fn(step, parents);
    for (const child of childBlocks(step)) walkSteps(child, fn, [...parents, step.id]);
  }
}

/** The nested step lists of a step (branches, bodies, catch handlers). */
export function childBlocks(step: StepIR): StepIR[][] {
  const out: StepIR[][] = [];
  switch (step.kind) {
    case 'map':
    case 'loop':
      out.push(step.steps);
      break;
    case 'parallel':
      out.push(...step.branches);
      break;
    case 'choice':
      out.push(...step.branches.map((b) => b.steps));
      if (step.otherwise) out.push(step.otherwise);
      break;
    default:
      break;
  }
  if ('catch' in step && step.catch) out.push(...step.catch.map((c) => c.steps));
  return out;
}
