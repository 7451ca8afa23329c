import { DEFAULT_STAGE_TIMEOUT_MS, type TaskIR } from '@baton/core';
import { addState, resultPath, selectionField, stepPathField, transition, type Continuation, type Scope } from './context.js';
import { compileCatchers, parseErrorStates, type AslCatcher } from './errors.js';
import { compileRetry } from './retry.js';
import type { BlockCompiler } from './dispatch.js';

/** Lambda service errors the optimized integration can raise; retried as AWS recommends. */
export const LAMBDA_SERVICE_ERRORS = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'] as const;

/**
 * A task as one Task state that invokes the stage's Lambda by its function ARN. The payload is
 * the stage input selection plus the step path, execution id and retry count; the Lambda's return
 * value is written as is at the result path (no `{ Payload, StatusCode, … }` wrapper to strip, so
 * no extra Pass state and nothing but the stage output enters the state). Retry and Catch match
 * the StageError code, which Baton's handler throws as the error name.
 */
export function compileTask(scope: Scope, step: TaskIR, next: Continuation, block: BlockCompiler): string {
  const { ctx } = scope;
  const meta = ctx.stages[step.stage] ?? {};
  const timeoutMs = step.timeoutMs ?? meta.timeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS;
  const { retry, policies } = compileRetry(step.retry ?? meta.retry ?? [], ctx, scope.prefix + step.id);
  const catchers: AslCatcher[] = compileCatchers(scope, step.id, step.catch, next, 'lambda', block);
  if (scope.itemFailed) catchers.push({ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: itemFailure(scope, step.id) });
  const invoke = ctx.lambdaIntegration === 'invoke';
  const payload = {
    stage: step.stage,
    ...stepPathField(scope, step.id),
    'executionId.$': '$$.Execution.Id',
    'retryCount.$': '$$.State.RetryCount',
    ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
    ...selectionField(scope, 'input', step.input, step.id),
  };
  const state: Record<string, unknown> = {
    Type: 'Task',
    Resource: invoke ? 'arn:aws:states:::lambda:invoke' : ctx.functionArn(step.stage),
    Parameters: invoke ? { FunctionName: ctx.functionArn(step.stage), Payload: payload } : payload,
    TimeoutSeconds: Math.ceil(timeoutMs / 1000) + ctx.timeoutMarginSeconds,
  };
  const result = invoke ? '$.Payload' : '$';
  const rp = resultPath(scope, step.resultPath);
  if (scope.itemOk !== undefined && next === scope.itemOk && rp === scope.root && !step.catch?.length) {
    // last task of a map item replacing the item state: shape the item result right here
    state.ResultSelector = { status: 'succeeded', 'output.$': result };
    state.ResultPath = '$';
    Object.assign(state, { End: true });
  } else if (!invoke || rp === null) {
    state.ResultPath = rp;
    Object.assign(state, transition(next));
  } else if (rp === '$') {
    state.OutputPath = '$.Payload';
    Object.assign(state, transition(next));
  } else {
    // lambda:invoke wraps the result in { Payload, StatusCode, … }: keep the payload, then unwrap it in place
    state.ResultSelector = { 'Payload.$': '$.Payload' };
    state.ResultPath = rp;
    const unwrap = addState(scope, `${step.id}.result`, { Type: 'Pass', InputPath: `${rp}.Payload`, ResultPath: rp, ...transition(next) });
    state.Next = unwrap;
  }
  if (invoke) {
    const at = retry[0]?.MaxAttempts === 0 ? 1 : 0;
    retry.splice(at, 0, { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3, JitterStrategy: 'FULL' });
    policies.splice(at, 0, null);
  }
  if (retry.length) state.Retry = retry;
  if (catchers.length) state.Catch = catchers;
  ctx.tasks[step.id] = { kind: 'stage', name: step.stage, stepId: step.id, retry: policies };
  return addState(scope, step.id, { Type: 'Task', ...state });
}

/** The states that turn a caught item failure into `{ status: 'failed', error }` (one chain per map). */
export function itemFailure(scope: Scope, _stepId: string): string {
  const shaped = scope.itemFailed!;
  if (!scope.states[shaped]) addState(scope, shaped, { Type: 'Pass', Parameters: { status: 'failed', 'error.$': '$.error' }, End: true });
  const first = scope.states[`${shaped}.envelope`] ? `${shaped}.envelope` : parseErrorStates(scope, shaped, '$.error', 'lambda', shaped);
  return first;
}
