import type { LoopIR } from '@baton/core';
import { addState, rootPath, type Continuation, type Scope } from './context.js';
import { endState } from './errors.js';
import { compilePredicate } from './predicate.js';
import type { BlockCompiler } from './dispatch.js';

/**
 * A loop as a Choice back-edge with a counter kept in the state at `$.loops.<id>` (Baton's own
 * interpreter keeps it outside the state; here it must live in the state, so it is visible in
 * the output): init -> body -> count -> check (until holds or the counter reached
 * `maxIterations` -> next, else back to the body).
 */
export function compileLoop(scope: Scope, step: LoopIR, next: Continuation, block: BlockCompiler): string {
  const counter = rootPath(scope, `$.loops.${step.id.replace(/\W/g, '_')}`);
  const exit = next ?? endState(scope, `${step.id}.end`);
  const check = `${step.id}.check`;
  const count = addState(scope, `${step.id}.count`, { Type: 'Pass', Parameters: { 'n.$': `States.MathAdd(${counter}.n, 1)` }, ResultPath: counter, Next: check });
  const body = block(scope, step.steps, count) ?? count;
  addState(scope, check, {
    Type: 'Choice',
    Choices: [
      { ...compilePredicate(scope, step.until), Next: exit },
      { Variable: `${counter}.n`, NumericGreaterThanEquals: step.maxIterations, Next: exit },
    ],
    Default: body,
  });
  return addState(scope, step.id, { Type: 'Pass', Result: { n: 0 }, ResultPath: counter, Next: body });
}
