import type { StepIR } from '@baton/core/engine';
import type { Continuation, Scope } from './context.js';
import { compileApproval } from './approval.js';
import { compileChoice } from './choice.js';
import { compileLoop } from './loop.js';
import { compileMap } from './map.js';
import { compileParallel } from './parallel.js';
import { compileTask } from './task.js';
import { compileFail, compileSucceed } from './terminal.js';
import { compileWait } from './wait.js';

/** Compiles a block of steps ending at `next`; returns its first state (or `next` when empty). */
export type BlockCompiler = (scope: Scope, steps: readonly StepIR[], next: Continuation) => Continuation;

/** Compiles a block back to front, so each step knows the state that follows it. */
export const compileBlock: BlockCompiler = (scope, steps, next) => {
  let cont = next;
  for (let i = steps.length - 1; i >= 0; i--) cont = compileStep(scope, steps[i]!, cont);
  return cont;
};

/** The dispatcher: one compiler per node kind. */
export function compileStep(scope: Scope, step: StepIR, next: Continuation): string {
  switch (step.kind) {
    case 'task':
      return compileTask(scope, step, next, compileBlock);
    case 'map':
      return compileMap(scope, step, next, compileBlock);
    case 'parallel':
      return compileParallel(scope, step, next, compileBlock);
    case 'choice':
      return compileChoice(scope, step, next, compileBlock);
    case 'wait':
      return compileWait(scope, step, next);
    case 'approval':
      return compileApproval(scope, step, next, compileBlock);
    case 'loop':
      return compileLoop(scope, step, next, compileBlock);
    case 'succeed':
      return compileSucceed(scope, step);
    case 'fail':
      return compileFail(scope, step);
  }
}
