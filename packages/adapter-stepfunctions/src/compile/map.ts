import type { MapIR } from '@baton/core/engine';
import { ITERATION, addState, pathField, resultPath, rootPath, selectionField, transition, type Continuation, type Scope } from './context.js';
import { compileCatchers, guardFatalStates } from './errors.js';
import { compileRetry, failCodesIn } from './retry.js';
import type { AslState } from './types.js';
import type { BlockCompiler } from './dispatch.js';
import { enforceTolerance } from './tolerance.js';

/**
 * A map as a Map state. Each item's ASL state is `{ path, result: { status: 'succeeded', output } }`:
 * `output` holds Baton's item state and `path` the item's step path prefix (`items[3]/`), so the
 * last step ends the item by keeping `$.result` (its `OutputPath`), without extra states; with
 * plain step paths the item state is `{ status: 'succeeded', output }` itself. Without a tolerated
 * failure threshold, items catch nothing: the first iteration that fails fails the INLINE Map state
 * with its own error (which the Map's `Catch` sees), as Baton's interpreter fails the map (kit
 * scenario 41). With a tolerated failure threshold,
 * item failures are caught and recorded as `{ status: 'failed', error }`, and the threshold is
 * enforced after the Map state on every mode and workflow type (see `enforceTolerance`); a fatal
 * failure (`FATAL_CODES`) is not caught but re-raised, so it fails the Map with the item's own
 * error as in Baton's interpreter. (In DISTRIBUTED mode it fails the item's child execution,
 * which Step Functions counts against the native threshold set below: the run fails only beyond
 * it, and with `States.ExceedToleratedFailureThreshold`.) Above
 * `distributedThreshold` expected items (STANDARD only) the map runs in DISTRIBUTED mode.
 *
 * Step Functions builds the Map state's output from the item results itself and fails it with
 * `States.DataLimitExceeded` over 256 KB, before any Lambda could claim-check the aggregate. So
 * when the aggregate could pass the limit (core's `mapItemClaimCheckThresholds` under `STEP_FUNCTIONS_LIMITS`: item count and output schemas; the local engine applies the same rule under those limits),
 * every task of an item sends a lowered `claimCheckThreshold` (and `keepKeys`): what an item keeps
 * over it crosses the state as `{ $blob }` references, which the next stage resolves.
 */
export function compileMap(scope: Scope, step: MapIR, next: Continuation, block: BlockCompiler): string {
  const { ctx } = scope;
  const where = scope.prefix + step.id;
  const expected = ctx.expectedItems[step.id];
  const distributed = expected !== undefined && expected > ctx.distributedThreshold;
  if (distributed && ctx.type === 'EXPRESS') {
    ctx.issues.push({
      severity: 'error',
      step: where,
      message: `map "${step.id}" expects ${expected} items: DISTRIBUTED mode is needed and an EXPRESS workflow cannot run it`,
    });
  }
  const tolerant = step.toleratedFailureCount !== undefined || step.toleratedFailurePercentage !== undefined;
  const plain = ctx.itemStepPaths === 'plain';
  // the item results of a map whose aggregate could pass 256 KB cross the Map state as references
  const own = ctx.itemThresholds[ctx.stepIds.get(step.id) ?? step.id];
  const threshold = own === undefined ? scope.claimCheckThreshold : Math.min(own, scope.claimCheckThreshold ?? own);
  const item: Scope = {
    ctx,
    states: {},
    root: plain ? '$.output' : '$.result.output',
    ...(plain ? {} : { itemResult: '$.result' }),
    prefix: plain ? `${scope.dynamicPrefix ? '' : scope.prefix}${step.id}[]/` : '',
    dynamicPrefix: !plain,
    ...(plain ? {} : { itemOk: `${step.id}.ok` }),
    ...(tolerant ? { itemFailed: `${step.id}.failed` } : {}),
    ...(threshold === undefined ? {} : { claimCheckThreshold: threshold }),
  };
  // plain: the item state is { status: 'succeeded', output } from the start, so it ends as the item result
  const done = plain ? null : item.itemOk!;
  const start = block(item, step.steps, done) ?? done ?? addState(item, `${step.id}.empty`, { Type: 'Pass', End: true });
  if (!plain && (JSON.stringify(item.states).includes(`"${item.itemOk}"`) || start === item.itemOk)) {
    addState(item, item.itemOk!, { Type: 'Pass', OutputPath: item.itemResult, End: true });
  }
  // the threshold never absorbs a fatal failure: the item re-raises it ahead of its States.ALL catcher
  if (tolerant) guardFatalStates(item, item.itemFailed!, item.states);
  const output = selectionField(scope, 'output', step.itemSelector ?? '$$.Map.Item.Value');
  const itemState = plain
    ? { status: 'succeeded', ...output }
    : {
        ...pathField(scope, 'path', `${step.id}[${ITERATION}]/`, ['$$.Map.Item.Index']),
        result: { status: 'succeeded', ...output },
      };
  const { retry } = compileRetry(step.retry ?? [], ctx, where, failCodesIn(step.steps));
  const catchers = compileCatchers(scope, step.id, step.catch, next, 'lambda', block);
  const state: AslState = {
    Type: 'Map',
    ItemsPath: rootPath(scope, step.items),
    ItemSelector: itemState,
    ItemProcessor: {
      ProcessorConfig: distributed ? { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } : { Mode: 'INLINE' },
      StartAt: start,
      States: item.states,
    },
    MaxConcurrency: step.maxConcurrency ?? 0,
    ResultPath: resultPath(scope, step.resultPath),
    ...transition(next),
  };
  enforceTolerance(scope, step, state, next);
  if (distributed && tolerant) {
    // items catch their failures, so these only count child executions that fail uncaught (States.Runtime, DataLimitExceeded)
    if (step.toleratedFailureCount !== undefined) state.ToleratedFailureCount = step.toleratedFailureCount;
    if (step.toleratedFailurePercentage !== undefined) state.ToleratedFailurePercentage = step.toleratedFailurePercentage;
  }
  if (retry.length) state.Retry = retry;
  if (catchers.length) state.Catch = catchers;
  return addState(scope, step.id, state);
}
