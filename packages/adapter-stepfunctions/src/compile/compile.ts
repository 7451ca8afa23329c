import { StageError, stageMetaOf, walkSteps, type AnyPipeline } from '@baton/core';
import type { CompileContext, Scope } from './context.js';
import { compileBlock } from './dispatch.js';
import { checkLimits } from './limits.js';
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
    throw new StageError('InvalidInput', `pipeline "${pipeline.name}" cannot run as a ${compiled.type} state machine:\n${errors.map((e) => `- ${e.step}: ${e.message}`).join('\n')}`, {
      details: { issues: errors },
    });
  }
  return compiled;
}

/** Like {@link compileToAsl} but returns errors in `issues` instead of throwing. */
export function compileUnchecked(pipeline: AnyPipeline, options: CompileOptions = {}): CompiledMachine {
  const type = options.type ?? 'STANDARD';
  const ctx: CompileContext = {
    type,
    functionArn: options.functionArn ?? ((stage) => `${DEFAULT_ACCOUNT}baton-${stage}`),
    reviewFunctionArn: options.reviewFunctionArn ?? `${DEFAULT_ACCOUNT}baton-review-gate`,
    distributedThreshold: options.distributedThreshold ?? 1000,
    expectedItems: options.expectedItems ?? {},
    approvalHeartbeatSeconds: options.approvalHeartbeatSeconds,
    timeoutMarginSeconds: options.timeoutMarginSeconds ?? 5,
    itemStepPaths: options.itemStepPaths ?? 'indexed',
    lambdaIntegration: options.lambdaIntegration ?? 'invoke',
    stepIds: new Map(),
    producedPaths: producedPaths(pipeline),
    stages: stageMetaOf(pipeline),
    rawErrors: new Map(),
    decodedErrors: new Set(),
    tasks: {},
    issues: [],
  };
  const top: Scope = { ctx, states: {}, root: '$', prefix: '', dynamicPrefix: false };
  const start = compileBlock(top, pipeline.ir.steps, null) ?? (top.states.Done = { Type: 'Succeed' }, 'Done');
  const definition: AslDefinition = { Comment: `Baton pipeline ${pipeline.name} v${pipeline.ir.version} (${type})`, StartAt: start, States: dropDefaultResultPaths(top.states) };
  ctx.issues.push(...checkLimits(definition, ctx.expectedItems, { type }));
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

function producedPaths(pipeline: AnyPipeline): string[] {
  // tasks inside map items write into the item's state, not the state a later map reads
  const maps = new Set<string>();
  walkSteps(pipeline.ir.steps, (s) => {
    if (s.kind === 'map') maps.add(s.id);
  });
  const out: string[] = [];
  walkSteps(pipeline.ir.steps, (s, parents) => {
    if (s.kind === 'task' && s.resultPath !== null && !parents.some((p) => maps.has(p))) out.push(s.resultPath ?? '$');
  });
  return out;
}
