import type { ParallelIR } from '@baton/core';
import { addState, resultPath, transition, type Continuation, type Scope } from './context.js';
import { compileCatchers, endState } from './errors.js';
import { compileRetry, failCodesIn } from './retry.js';
import type { AslState } from './types.js';
import type { BlockCompiler } from './dispatch.js';

/** A parallel step as a Parallel state; each branch sees Baton's state and yields its final state. */
export function compileParallel(scope: Scope, step: ParallelIR, next: Continuation, block: BlockCompiler): string {
  const { ctx } = scope;
  const branches = step.branches.map((steps, i) => {
    const branch: Scope = { ctx, states: {}, root: '$', prefix: `${scope.dynamicPrefix ? '' : scope.prefix}${step.id}.${i}/`, dynamicPrefix: false };
    // a branch's input is Baton's state (InputPath): the loop counters it holds keep its step paths per iteration
    if (!scope.dynamicPrefix && scope.iterations?.length) branch.iterations = scope.iterations.map((p) => `$${p.slice(scope.root.length)}`);
    const start = block(branch, steps, null) ?? endState(branch, `${step.id}.${i}.empty`);
    return { StartAt: start, States: branch.states };
  });
  const { retry } = compileRetry(step.retry ?? [], ctx, scope.prefix + step.id, failCodesIn(step.branches.flat()));
  const catchers = compileCatchers(scope, step.id, step.catch, next, 'lambda', block);
  const state: AslState = { Type: 'Parallel', Branches: branches, ResultPath: resultPath(scope, step.resultPath), ...transition(next) };
  if (scope.root !== '$') state.InputPath = scope.root;
  if (retry.length) state.Retry = retry;
  if (catchers.length) state.Catch = catchers;
  return addState(scope, step.id, state);
}
