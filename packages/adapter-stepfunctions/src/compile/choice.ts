import type { ChoiceIR } from '@baton/core/engine';
import { addState, type Continuation, type Scope } from './context.js';
import { endState } from './errors.js';
import { compilePredicate } from './predicate.js';
import type { BlockCompiler } from './dispatch.js';

/** A choice as a Choice state; without `otherwise`, no match fails with `States.NoChoiceMatched` as in Baton. */
export function compileChoice(scope: Scope, step: ChoiceIR, next: Continuation, block: BlockCompiler): string {
  const join = (): string => next ?? endState(scope, `${step.id}.end`);
  const choices = step.branches.map((b) => ({ ...compilePredicate(scope, b.when), Next: block(scope, b.steps, next) ?? join() }));
  const state: Record<string, unknown> = { Type: 'Choice', Choices: choices };
  if (step.otherwise) state.Default = block(scope, step.otherwise, next) ?? join();
  return addState(scope, step.id, { Type: 'Choice', ...state });
}
