import { StageError, type AnyPipeline } from '@baton/core';
import { DEFAULT_CLAIM_CHECK_THRESHOLD, STEP_FUNCTIONS_LIMITS, mapItemBounds, mapItemClaimCheckThresholds, stageMetaOf, walkSteps } from '@baton/core/engine';
import type { CompileContext, Scope } from './context.js';
import { routeFailuresToDeadLetter } from './dead-letter.js';
import { compileBlock } from './dispatch.js';
import { checkLimits } from './limits.js';
import { stageOutputFields } from './output-fields.js';
import type { AslDefinition, AslState, CompileOptions, CompiledMachine } from './types.js';

const DEFAULT_ACCOUNT = 'arn:aws:lambda:us-east-1:123456789012:function:';

/**
 * Compiles a pipeline into an Amazon States Language state machine for a STANDARD or EXPRESS
 * workflow. Throws a `StageError('InvalidInput')` listing every error when the pipeline cannot run
 * on the chosen workflow type (an approval gate or a DISTRIBUTED map in EXPRESS); warnings (delays
 * rounded to seconds, limits at the expected item counts) are returned in `issues`.
 *
 * @example
 * ```ts
 * const { definition, issues } = compileToAsl(reportPipeline, { type: 'STANDARD', expectedItems: { sections: 40 } });
 * ```
 */
export function compileToAsl(pipeline: AnyPipeline, options: CompileOptions = {}): CompiledMachine {
  const compiled = compileUnchecked(pipeline, options);
  const errors = compiled.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) {
    throw new StageError(
      'InvalidInput',
      `pipeline "${pipeline.name}" cannot run as a ${compiled.type} state machine:\n${errors.map((e) => `- ${e.step}: ${e.message}`).join('\n')}`,
      {
        details: { issues: errors },
      },
    );
  }
  return compiled;
}

/** Like {@link compileToAsl} but returns errors in `issues` instead of throwing. */
export function compileUnchecked(pipeline: AnyPipeline, options: CompileOptions = {}): CompiledMachine {
  const type = options.type ?? 'STANDARD';
  const expectedItems = options.expectedItems ?? {};
  const itemBounds = mapItemBounds(pipeline);
  const ctx: CompileContext = {
    type,
    functionArn: options.functionArn ?? ((stage) => `${DEFAULT_ACCOUNT}baton-${stage}`),
    reviewFunctionArn: options.reviewFunctionArn ?? `${DEFAULT_ACCOUNT}baton-review-gate`,
    distributedThreshold: options.distributedThreshold ?? 1000,
    expectedItems,
    approvalHeartbeatSeconds: options.approvalHeartbeatSeconds,
    timeoutMarginSeconds: options.timeoutMarginSeconds ?? 5,
    itemStepPaths: options.itemStepPaths ?? 'indexed',
    lambdaIntegration: options.lambdaIntegration ?? 'invoke',
    stepIds: new Map(),
    mapItems: mapItemsOfTasks(pipeline),
    stages: stageMetaOf(pipeline),
    ...(options.stageRetry ? { stageRetry: options.stageRetry } : {}),
    outputs: stageOutputFields(pipeline),
    rawErrors: new Map(),
    decodedErrors: new Set(),
    // core's rule, which the local engine applies too under STEP_FUNCTIONS_LIMITS
    itemThresholds: mapItemClaimCheckThresholds(pipeline, STEP_FUNCTIONS_LIMITS, {
      expectedItems,
      itemBounds,
      claimCheckThreshold: DEFAULT_CLAIM_CHECK_THRESHOLD,
    }),
    tasks: {},
    issues: [],
  };
  const top: Scope = { ctx, states: {}, root: '$', prefix: '', dynamicPrefix: false };
  const start = compileBlock(top, pipeline.ir.steps, null) ?? ((top.states.Done = { Type: 'Succeed' }), 'Done');
  const states = dropDefaultResultPaths(top.states);
  const definition: AslDefinition = {
    Comment: `Baton pipeline ${pipeline.name} v${pipeline.ir.version} (${type})`,
    StartAt: start,
    States: options.deadLetter ? routeFailuresToDeadLetter(states, options.deadLetter) : states,
  };
  if (options.timeoutSeconds !== undefined) definition.TimeoutSeconds = options.timeoutSeconds;
  ctx.issues.push(...checkLimits(definition, ctx.expectedItems, { type, itemBounds, itemThresholds: ctx.itemThresholds }));
  return { definition, type, lambdaIntegration: ctx.lambdaIntegration, tasks: ctx.tasks, issues: ctx.issues };
}

/**
 * `ResultPath: "$"` is ASL's default; it is left out, which also keeps aws-local-stepfunctions
 * (which writes an explicit `"$"` under a key named `$`) in line with AWS.
 */
function dropDefaultResultPaths(states: Record<string, AslState>): Record<string, AslState> {
  for (const s of Object.values(states)) {
    if (s.ResultPath === '$') delete s.ResultPath;
    for (const c of (s.Catch as Record<string, unknown>[] | undefined) ?? []) if (c.ResultPath === '$') delete c.ResultPath;
    const proc = s.ItemProcessor as { States: Record<string, AslState> } | undefined;
    if (proc) dropDefaultResultPaths(proc.States);
    for (const b of (s.Branches as { States: Record<string, AslState> }[] | undefined) ?? []) dropDefaultResultPaths(b.States);
  }
  return states;
}

/**
 * For each task, the paths of its output (`$.sections`) that a map in the same scope iterates
 * over (its `items` under the task's result path): the task's Lambda keeps them out of the claim
 * check, since a Map's ItemsPath cannot follow a blob reference.
 */
function mapItemsOfTasks(pipeline: AnyPipeline): Map<string, string[]> {
  const maps = new Set<string>();
  walkSteps(pipeline.ir.steps, (s) => {
    if (s.kind === 'map') maps.add(s.id);
  });
  // the scope of a step: its nearest enclosing map (items have their own state), or the top
  const scopeOf = (parents: string[]): string => [...parents].reverse().find((p) => maps.has(p)) ?? '';
  const items: { scope: string; path: string }[] = [];
  const tasks: { id: string; scope: string; resultPath: string }[] = [];
  walkSteps(pipeline.ir.steps, (s, parents) => {
    if (s.kind === 'map') items.push({ scope: scopeOf(parents), path: s.items });
    if (s.kind === 'task' && s.resultPath !== null) tasks.push({ id: s.id, scope: scopeOf(parents), resultPath: s.resultPath ?? '$' });
  });
  const out = new Map<string, string[]>();
  for (const t of tasks) {
    const under = items
      .filter((m) => m.scope === t.scope)
      .map((m) =>
        t.resultPath === '$'
          ? m.path
          : m.path === t.resultPath
            ? '$'
            : m.path.startsWith(`${t.resultPath}.`) || m.path.startsWith(`${t.resultPath}[`)
              ? `$${m.path.slice(t.resultPath.length)}`
              : undefined,
      )
      .filter((p): p is string => p !== undefined && !p.startsWith('$$'));
    if (under.length) out.set(t.id, [...new Set(under)]);
  }
  return out;
}
