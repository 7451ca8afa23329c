import { type RetryPolicy } from '@baton/core';
import { DEFAULT_STAGE_TIMEOUT_MS, type TaskIR } from '@baton/core/engine';
import { addState, resultPath, selectionField, stepPathField, transition, type Continuation, type Scope } from './context.js';
import { compileCatchers, parseErrorStates, type AslCatcher } from './errors.js';
import { pickedForm } from './picked.js';
import { compileRetry } from './retry.js';
import type { BlockCompiler } from './dispatch.js';

/** Lambda service errors the optimized integration can raise; retried as AWS recommends. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * A task as one Task state and never more. Retry and Catch match the StageError code, which
 * Baton's handler throws as the error name.
 *
 * `lambdaIntegration: 'invoke'` (the default) calls `arn:aws:states:::lambda:invoke` and keeps
 * nothing of its `{ Payload, StatusCode, … }` envelope but the payload:
 * - result replaces the state: `OutputPath: "$.Payload"`;
 * - last task of a map item: `ResultSelector: { status: 'succeeded', 'output.$': '$.Payload…' }`,
 *   so the Task itself yields the item result;
 * - result discarded: `ResultPath: null` (and `OutputPath` to the item result when it ends an item);
 * - result written below the root, output schema an object whose keys are all required: the
 *   Lambda gets its selected input only, and `ResultSelector: { "<k>.$": "$.Payload.<k>" }` per
 *   output key with `ResultPath: <result path>` writes the output, as one writes it by hand; the
 *   payload's `keepKeys` keeps the claim check from replacing the whole output by one reference;
 * - otherwise (schema unknown, optional keys, records, unions, non-objects, or a caught error
 *   it reads that would stay raw in the state), with a compile warning naming the task: the
 *   Lambda gets the Task's state (the "state" event shape, see `StageEvent`), selects the stage
 *   input from it, and returns the state with the output written at the result path, kept with
 *   `OutputPath: "$.Payload"`. Writing a bare value below the root is what ResultSelector cannot
 *   do without knowing the keys, and an unwrap Pass per task is what this avoids.
 * Lambda service errors get their own retrier, as AWS recommends for this integration.
 *
 * Retry: the compile option `stageRetry` for the task's stage, else the task's `retry`, else the
 * stage's. When that is not the stage's own policy, the payload carries it (`retry`), so the
 * Lambda can tell a failure no retrier will take (and record the step failed) without guessing.
 *
 * `lambdaIntegration: 'function-arn'` uses the function ARN as `Resource`: the Lambda's return
 * value is the result as is and lands at the result path natively.
 */
export function compileTask(scope: Scope, step: TaskIR, next: Continuation, block: BlockCompiler): string {
  const { ctx } = scope;
  const meta = ctx.stages[step.stage] ?? {};
  const timeoutMs = step.timeoutMs ?? meta.timeoutMs ?? DEFAULT_STAGE_TIMEOUT_MS;
  const effective = ctx.stageRetry?.[step.stage] ?? step.retry ?? meta.retry ?? [];
  const { retry, policies } = compileRetry(effective, ctx, scope.prefix + step.id);
  const invoke = ctx.lambdaIntegration === 'invoke';
  const rp = resultPath(scope, step.resultPath);
  const endsItem = scope.itemOk !== undefined && next === scope.itemOk;
  // the branch below that decodes caught errors in the Lambda; when it fails they stay raw
  const decodes = invoke && !(endsItem && rp === scope.root) && !(rp === null && (!endsItem || scope.itemResult)) && rp !== '$';
  const catchers: AslCatcher[] = compileCatchers(scope, step.id, step.catch, next, 'lambda', block, decodes ? (ctx.rawErrors.get(step) ?? []) : []);
  if (scope.itemFailed) catchers.push({ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: itemFailure(scope, step.id) });
  const inline = ctx.mapItems.get(ctx.stepIds.get(step.id) ?? step.id);
  const head = {
    stage: step.stage,
    ...stepPathField(scope, step.id),
    'executionId.$': '$$.Execution.Id',
    'retryCount.$': '$$.State.RetryCount',
    ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
    // the Lambda knows its stage's policy; it is told only one that differs (to tell a final failure)
    ...(samePolicy(effective, meta.retry ?? []) ? {} : { retry: effective }),
    ...(inline ? { keepInline: inline } : {}),
    // inside the items of a map whose aggregate could pass 256 KB: large fields move out, keys stay for the machine's paths
    ...(scope.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: scope.claimCheckThreshold, keepKeys: true }),
  };
  const input = selectionField(scope, 'input', step.input, step.id);
  const state: Record<string, unknown> = { Type: 'Task', TimeoutSeconds: Math.ceil(timeoutMs / 1000) + ctx.timeoutMarginSeconds };
  let payload: Record<string, unknown> = { ...head, ...input };
  if (!invoke) {
    if (endsItem && rp === scope.root && !step.catch?.length) {
      // last task of a map item replacing the item state: shape the item result right here
      state.ResultSelector = { status: 'succeeded', 'output.$': '$' };
      state.ResultPath = '$';
      state.End = true;
    } else {
      state.ResultPath = rp;
      Object.assign(state, transition(next));
    }
  } else if (endsItem && rp === scope.root) {
    state.ResultSelector = { status: 'succeeded', 'output.$': '$.Payload' };
    state.ResultPath = '$';
    state.End = true;
  } else if (rp === null && (!endsItem || scope.itemResult)) {
    state.ResultPath = null;
    if (endsItem) {
      state.OutputPath = scope.itemResult;
      state.End = true;
    } else Object.assign(state, transition(next));
  } else if (rp === '$') {
    state.OutputPath = '$.Payload';
    Object.assign(state, transition(next));
  } else {
    // a caught error the task reads is decoded by its Lambda (in its input or in its state)
    const errors = ctx.rawErrors.get(step)?.map((raw) => raw.path);
    if (errors) ctx.decodedErrors.add(step);
    const form = pickedForm(scope, step, rp, input);
    if ('fields' in form) {
      // as written by hand: the Lambda sees its selected input only, the Task picks the output's
      // fields; the decoded error's raw form in the state is overwritten by the result
      payload = { ...head, ...input, ...(form.errors.length ? { errors: form.errors } : {}), keepKeys: true };
      state.ResultSelector = form.fields;
      state.ResultPath = rp;
      if (endsItem) {
        state.OutputPath = scope.itemResult;
        state.End = true;
      } else Object.assign(state, transition(next));
    } else {
      ctx.issues.push({
        severity: 'warning',
        step: scope.prefix + step.id,
        message: `task "${step.id}" sends its whole state to the Lambda ("state.$": "$"), which returns it with the output written at ${step.resultPath ?? '$'}: ${form.reason}`,
      });
      payload = {
        ...head,
        'state.$': '$',
        ...(step.input === undefined ? {} : { select: JSON.stringify(step.input) }),
        ...(scope.root === '$' ? {} : { root: scope.root }),
        resultPath: rp,
        ...(errors ? { errors } : {}),
      };
      if (endsItem) {
        state.ResultSelector = { status: 'succeeded', 'output.$': `$.Payload${scope.root.slice(1)}` };
        state.ResultPath = '$';
        state.End = true;
      } else {
        state.OutputPath = '$.Payload';
        Object.assign(state, transition(next));
      }
    }
  }
  state.Resource = invoke ? 'arn:aws:states:::lambda:invoke' : ctx.functionArn(step.stage);
  state.Parameters = invoke ? { FunctionName: ctx.functionArn(step.stage), Payload: payload } : payload;
  if (invoke) {
    const at = retry[0]?.MaxAttempts === 0 ? 1 : 0;
    retry.splice(at, 0, { ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3, JitterStrategy: 'FULL' });
    policies.splice(at, 0, null);
  }
  if (retry.length) state.Retry = retry;
  if (catchers.length) state.Catch = catchers;
  ctx.tasks[step.id] = { kind: 'stage', name: step.stage, stepId: step.id, retry: policies, receives: 'state.$' in payload ? 'state' : 'input' };
  return addState(scope, step.id, { Type: 'Task', ...order(state) });
}

/** The states that turn a caught item failure into `{ status: 'failed', error }` (one chain per map). */
export function itemFailure(scope: Scope, _stepId: string): string {
  const shaped = scope.itemFailed!;
  if (!scope.states[shaped]) addState(scope, shaped, { Type: 'Pass', Parameters: { status: 'failed', 'error.$': '$.error' }, End: true });
  const first = scope.states[`${shaped}.envelope`] ? `${shaped}.envelope` : parseErrorStates(scope, shaped, '$.error', 'lambda', shaped);
  return first;
}

function samePolicy(a: readonly RetryPolicy[], b: readonly RetryPolicy[]): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

const FIELD_ORDER = ['Type', 'Resource', 'Parameters', 'TimeoutSeconds', 'ResultSelector', 'ResultPath', 'OutputPath', 'Retry', 'Catch', 'Next', 'End'];

/** Fields in the order one reads a Task state. */
function order(state: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(state).sort(([a], [b]) => FIELD_ORDER.indexOf(a) - FIELD_ORDER.indexOf(b)));
}
