import type { ParallelIR } from '@baton/core/engine';
import { addState, pathField, resultPath, transition, type Continuation, type Scope } from './context.js';
import { compileCatchers, endState } from './errors.js';
import { compileRetry, failCodesIn } from './retry.js';
import type { AslState } from './types.js';
import type { BlockCompiler } from './dispatch.js';

/**
 * A parallel step as a Parallel state; each branch sees Baton's state and yields its final state.
 * Branch steps are named as in Baton's interpreter (`<prefix><parallel>.<branch>/<step>`).
 *
 * Inside a map item the prefix is the item's (`sections[3]/`, at `$.path` of the item state), which
 * a branch given Baton's state alone (`InputPath`) could not see: there the Parallel's
 * `Parameters` hand each branch `{ path, output }` (the item's prefix up to the parallel, and
 * Baton's state), the branch's steps read Baton's state at `$.output`, and each branch ends on a
 * Pass keeping `$.output` (one transition per branch and item).
 */
export function compileParallel(scope: Scope, step: ParallelIR, next: Continuation, block: BlockCompiler): string {
  const { ctx } = scope;
  const dynamic = scope.dynamicPrefix;
  const inherited = scope.claimCheckThreshold === undefined ? {} : { claimCheckThreshold: scope.claimCheckThreshold };
  const branches = step.branches.map((steps, i) => {
    if (dynamic) {
      const done = `${step.id}.${i}.done`;
      const branch: Scope = { ctx, states: {}, root: '$.output', prefix: `${step.id}.${i}/`, dynamicPrefix: true, blockEnd: done, ...inherited };
      const start = block(branch, steps, done) ?? done;
      if (start === done || JSON.stringify(branch.states).includes(`"${done}"`)) addState(branch, done, { Type: 'Pass', OutputPath: '$.output', End: true });
      return { StartAt: start, States: branch.states };
    }
    const branch: Scope = { ctx, states: {}, root: '$', prefix: `${scope.prefix}${step.id}.${i}/`, dynamicPrefix: false, ...inherited };
    // a branch's input is Baton's state (InputPath): the loop counters it holds keep its step paths per iteration
    if (scope.iterations?.length) branch.iterations = scope.iterations.map((p) => `$${p.slice(scope.root.length)}`);
    const start = block(branch, steps, null) ?? endState(branch, `${step.id}.${i}.empty`);
    return { StartAt: start, States: branch.states };
  });
  const { retry } = compileRetry(step.retry ?? [], ctx, scope.prefix + step.id, failCodesIn(step.branches.flat()));
  const catchers = compileCatchers(scope, step.id, step.catch, next, 'lambda', block);
  const state: AslState = { Type: 'Parallel', Branches: branches, ResultPath: resultPath(scope, step.resultPath), ...transition(next) };
  if (dynamic) {
    // the item's prefix (with the iterations of the loops around the parallel) and Baton's state
    const path = scope.prefix === '' && !scope.iterations?.length ? { 'path.$': '$.path' } : pathField(scope, 'path', '');
    state.Parameters = { ...path, 'output.$': scope.root };
  } else if (scope.root !== '$') state.InputPath = scope.root;
  if (retry.length) state.Retry = retry;
  if (catchers.length) state.Catch = catchers;
  return addState(scope, step.id, state);
}
