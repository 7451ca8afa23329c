import { ALL_ERRORS } from '@baton/core';
import { type ApprovalIR } from '@baton/core/engine';
import { addState, resultPath, rootPath, selectionField, stepPathField, transition, type Continuation, type Scope } from './context.js';
import { compileCatchers, type AslCatcher } from './errors.js';
import type { BlockCompiler } from './dispatch.js';
import { LAMBDA_SERVICE_ERRORS } from './task.js';

/**
 * The gate's retrier: Lambda service errors (throttling, service exceptions) when invoking the
 * review-gate function, retried as the stage tasks' are, so they do not fail the run. A retry
 * invokes the gate again with a new task token; the review store upserts the review by step.
 */
export const REVIEW_GATE_RETRY = {
  ErrorEquals: [...LAMBDA_SERVICE_ERRORS],
  IntervalSeconds: 1,
  BackoffRate: 2,
  MaxAttempts: 3,
  JitterStrategy: 'FULL',
} as const;

/**
 * The gate's retrier of its own transient failures: the registry database unreachable or the
 * notice target unavailable or throttling (the review-gate Lambda throws these codes), retried
 * for about a minute before the run fails with the error.
 */
export const REVIEW_GATE_TRANSIENT_RETRY = {
  ErrorEquals: ['ServiceUnavailableException', 'ThrottlingException'],
  IntervalSeconds: 2,
  BackoffRate: 2,
  MaxAttempts: 5,
  MaxDelaySeconds: 30,
  JitterStrategy: 'FULL',
} as const;

/**
 * An approval gate as `lambda:invoke.waitForTaskToken`: the review-gate Lambda records the
 * pending review (hashed review token, the task token to answer with) and returns; the run pauses
 * at no compute cost until SendTaskSuccess (approve) or SendTaskFailure (`ApprovalRejected`).
 * The gate's timeout is the state's `TimeoutSeconds`; its `States.Timeout` becomes Baton's
 * `ApprovalTimedOut`. EXPRESS workflows cannot wait for a task token. The reviewer is the gate's
 * `reviewer`, or read from the state at `reviewerPath` (`reviewer.$`: the Lambda receives a string,
 * or `null` for anyone; a missing path fails the state with `States.Runtime`). A `sectionsPath`
 * sends the section ids as `sections.$` (the gate records them; approve checks the verdicts
 * against them and answers SendTaskSuccess with `{ approved, reviewer, comment, sections }`).
 */
export function compileApproval(scope: Scope, step: ApprovalIR, next: Continuation, block: BlockCompiler): string {
  const { ctx } = scope;
  if (ctx.type === 'EXPRESS') {
    ctx.issues.push({
      severity: 'error',
      step: scope.prefix + step.id,
      message: `approval gate "${step.gate}" needs a task token: EXPRESS workflows do not support .waitForTaskToken; deploy as STANDARD`,
    });
  }
  const timedOut = {
    code: 'ApprovalTimedOut',
    message: `gate "${step.gate}" was not decided within ${step.timeoutSeconds} s`,
    retryable: false,
    details: { gate: step.gate, timeoutSeconds: step.timeoutSeconds },
  };
  // the catcher of ApprovalTimedOut (or States.ALL) is compiled once: the timeout joins its handler
  const handlers: string[] = [];
  const caught = compileCatchers(scope, step.id, step.catch, next, 'direct', block, [], handlers);
  const catchers: AslCatcher[] = [];
  const at = step.catch?.findIndex((c) => c.errors.includes('ApprovalTimedOut') || c.errors.includes(ALL_ERRORS)) ?? -1;
  if (at >= 0) {
    const userTimeout = step.catch![at]!;
    const target = resultPath(scope, userTimeout.resultPath === undefined ? '$.error' : userTimeout.resultPath);
    const to = handlers[at]!;
    const pass = target === null ? to : addState(scope, `${step.id}.timedOut`, { Type: 'Pass', Result: timedOut, ResultPath: target, Next: to });
    catchers.push({ ErrorEquals: ['States.Timeout'], ResultPath: null, Next: pass });
  } else {
    const fail = addState(scope, `${step.id}.timedOut`, { Type: 'Fail', Error: 'ApprovalTimedOut', Cause: timedOut.message });
    catchers.push({ ErrorEquals: ['States.Timeout'], ResultPath: null, Next: fail });
  }
  catchers.push(...caught);
  const state: Record<string, unknown> = {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: {
      FunctionName: ctx.reviewFunctionArn,
      Payload: {
        'taskToken.$': '$$.Task.Token',
        'executionId.$': '$$.Execution.Id',
        'retryCount.$': '$$.State.RetryCount',
        gate: step.gate,
        ...stepPathField(scope, step.id),
        timeoutSeconds: step.timeoutSeconds,
        ...reviewerField(scope, step),
        ...(step.sectionsPath === undefined ? {} : { 'sections.$': rootPath(scope, step.sectionsPath) }),
        ...selectionField(scope, 'payload', step.payload, step.id),
      },
    },
    TimeoutSeconds: step.timeoutSeconds,
    ResultPath: resultPath(scope, step.resultPath),
    Retry: [structuredClone(REVIEW_GATE_RETRY), structuredClone(REVIEW_GATE_TRANSIENT_RETRY)],
    Catch: catchers,
    ...transition(next),
  };
  if (ctx.approvalHeartbeatSeconds !== undefined) state.HeartbeatSeconds = ctx.approvalHeartbeatSeconds;
  ctx.tasks[step.id] = { kind: 'approval', name: step.gate, stepId: step.id, retry: [null, null] };
  return addState(scope, step.id, { Type: 'Task', ...state });
}

function reviewerField(scope: Scope, step: ApprovalIR): Record<string, string> {
  if (step.reviewerPath !== undefined) return { 'reviewer.$': rootPath(scope, step.reviewerPath) };
  return step.reviewer === undefined ? {} : { reviewer: step.reviewer };
}
