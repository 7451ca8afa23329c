import type { RetryPolicy } from '@baton/core';
import type { DeadLetterOptions } from './dead-letter.js';

/** An Amazon States Language state, as plain JSON (JSONPath query language). */
export type AslState = Record<string, unknown> & { Type: string };

/** A state machine definition in Amazon States Language. */
export interface AslDefinition {
  Comment?: string;
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
}

/** The two Step Functions workflow types. */
export type WorkflowType = 'STANDARD' | 'EXPRESS';

/** Something the compiler noticed: an error makes the pipeline uncompilable for the chosen type. */
export interface CompileIssue {
  severity: 'error' | 'warning';
  /** Step path (`items/item`) or `(pipeline)`. */
  step: string;
  message: string;
}

/** What the compiled machine binds to a Task state, so engines and deployments can wire handlers. */
export interface TaskBinding {
  kind: 'stage' | 'approval';
  /** Stage name (kind `stage`) or gate name (kind `approval`). */
  name: string;
  stepId: string;
  /** Baton's retry policies in the order of the state's `Retry` array (`null` for the leading never-retry entry). */
  retry: (RetryPolicy | null)[];
  /**
   * Stage tasks: what the Lambda receives, its selected `input`, or the Task's whole `state` (the
   * fallback for a result below the root whose output keys the compiler cannot rely on; a compile
   * warning names the task and the reason).
   */
  receives?: 'input' | 'state';
}

/** Options of {@link compileToAsl}. */
export interface CompileOptions {
  /** Workflow type the machine is deployed as. @default 'STANDARD' */
  type?: WorkflowType;
  /**
   * ARN (or CloudFormation-substituted placeholder) of the Lambda that runs a stage.
   * @default `arn:aws:lambda:us-east-1:123456789012:function:baton-<stage>`
   */
  functionArn?: (stage: string) => string;
  /** ARN of the review-gate Lambda. @default `arn:aws:lambda:us-east-1:123456789012:function:baton-review-gate` */
  reviewFunctionArn?: string;
  /** Map item counts above which a map compiles as DISTRIBUTED (STANDARD only). @default 1000 */
  distributedThreshold?: number;
  /** Expected item count of each map, by map step id; drives DISTRIBUTED mode and limit reports. */
  expectedItems?: Record<string, number>;
  /** Heartbeat of approval gates, in seconds (the reviewer UI must send heartbeats). @default none */
  approvalHeartbeatSeconds?: number;
  /**
   * Step paths of map items. `indexed` gives each item its Baton step path (`sections[3]/generate`),
   * carried in the item state; an item ending on a task is shaped as `{ status, output }` by that
   * task, one ending on a Choice or Succeed costs one Pass state (as a hand-written Succeed would).
   * `plain` drops the index (`sections[]/generate`, fine when stages derive keys from content
   * hashes) and starts items as `{ status: 'succeeded', output }`. @default 'indexed'
   */
  itemStepPaths?: 'indexed' | 'plain';
  /**
   * How Task states call stage Lambdas. `invoke`: the optimized `arn:aws:states:::lambda:invoke`
   * integration, one Task state per task and nothing of its `{ Payload, StatusCode, … }` envelope
   * kept: `OutputPath: "$.Payload"` when the result replaces the state, a ResultSelector shaping
   * `{ status, output }` for a map item's last task, `ResultPath: null` for a discarded result;
   * for a result below the root, `ResultSelector: { "<k>.$": "$.Payload.<k>" }` per key of the
   * stage's output schema (a zod object whose keys are all required) with the Lambda getting only
   * its selected input, or, as a fallback reported by a warning, the Lambda gets the Task's state,
   * selects the stage input from it and returns the state with the output written in (see
   * `StageEvent`); plus a retrier for Lambda service errors. `function-arn`: the function ARN as `Resource`, the result written natively at
   * the result path, an extra Pass to shape an item that does not end by replacing its state, and
   * Pass states parsing caught errors. @default 'invoke'
   */
  lambdaIntegration?: 'function-arn' | 'invoke';
  /** Seconds added to a stage's timeout for the Task's TimeoutSeconds, so the Lambda's own timeout fires first. @default 5 */
  timeoutMarginSeconds?: number;
  /**
   * Send every failed run's context (run id, execution ARN, failed step, error, cause, input) to
   * this SQS queue before the execution ends failed with its original error (see
   * `routeFailuresToDeadLetter`). The machine's role needs `sqs:SendMessage` on it. The execution
   * then fails at the route's Fail state, so Step Functions' RedriveExecution (which restarts the
   * state that failed) cannot resume it: `BatonStateMachine` does not use this, it sends failed runs
   * from their status-change events. @default none
   */
  deadLetter?: DeadLetterOptions;
  /**
   * Replaces the retry policy of every task of the named stages (ASL retriers, and the policy the
   * stage's Lambda uses to tell its last attempt). The CDK construct sets it for model stages.
   * @default each task's own policy (the task's `retry`, else its stage's)
   */
  stageRetry?: Record<string, RetryPolicy[]>;
  /** Execution-level timeout (`TimeoutSeconds` of the machine): the run fails with `States.Timeout` after it. @default none */
  timeoutSeconds?: number;
}

/** The result of {@link compileToAsl}. */
export interface CompiledMachine {
  definition: AslDefinition;
  type: WorkflowType;
  /** How Task states call the stage Lambdas. */
  lambdaIntegration: 'function-arn' | 'invoke';
  /** Task state name → what it runs. */
  tasks: Record<string, TaskBinding>;
  issues: CompileIssue[];
}
