import type { LoopIR, StepIR } from '@baton/core/engine';
import { ITERATION, addState, rootPath, type Continuation, type Scope } from './context.js';
import { endState } from './errors.js';
import { compilePredicate } from './predicate.js';
import type { BlockCompiler } from './dispatch.js';

/** Loops with at most this many iterations are unrolled: no counter, no bookkeeping states. */
export const UNROLL_LIMIT = 3;

/**
 * A loop. Up to {@link UNROLL_LIMIT} iterations it is unrolled into copies of the body (state
 * names suffixed `@2`, `@3`) joined by Choice states that exit when `until` holds, which is what
 * one writes by hand: one Choice per iteration but the last. Beyond that it is a Choice back-edge
 * with a counter kept in the state at `$.loops.<id>` (visible in the output, unlike in Baton's
 * interpreter): init → body → count → check (until holds or the counter reached
 * `maxIterations` → next, else back to the body). The body's step paths carry the iteration
 * (`<loop>@<n>/<step>`, formatted from the counter), as in Baton's interpreter, so attempts and
 * redrive records are per iteration.
 */
export function compileLoop(scope: Scope, step: LoopIR, next: Continuation, block: BlockCompiler): string {
  const exit = next ?? endState(scope, `${step.id}.end`);
  if (step.maxIterations <= UNROLL_LIMIT) {
    // a loop unrolled inside another's copy suffixes its copies `@@2`: its second copy within the
    // outer first must not take the names of the outer second copy (`x@2`)
    const depth = scope.ctx.unrollDepth ?? 0;
    scope.ctx.unrollDepth = depth + 1;
    try {
      return unrolled(scope, step, exit, block, '@'.repeat(depth + 1));
    } finally {
      scope.ctx.unrollDepth = depth;
    }
  }
  const counter = rootPath(scope, `$.loops.${step.id.replace(/\W/g, '_')}`);
  const check = `${step.id}.check`;
  const count = addState(scope, `${step.id}.count`, {
    Type: 'Pass',
    Parameters: { 'n.$': `States.MathAdd(${counter}.n, 1)` },
    ResultPath: counter,
    Next: check,
  });
  const inBody: Scope = { ...scope, prefix: `${scope.prefix}${step.id}@${ITERATION}/`, iterations: [...(scope.iterations ?? []), `${counter}.n`] };
  const body = block(inBody, step.steps, count) ?? count;
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

/** The copies of an unrolled loop's body, compiled last first, each suffixed `<mark><n>` but the first. */
function unrolled(scope: Scope, step: LoopIR, exit: string, block: BlockCompiler, mark: string): string {
  let cont: string = exit;
  for (let i = step.maxIterations - 1; i >= 0; i--) {
    const suffix = i === 0 ? '' : `${mark}${i + 1}`;
    const body = i === 0 ? step.steps : step.steps.map((s) => renamed(s, suffix, scope.ctx.stepIds));
    if (i < step.maxIterations - 1) {
      cont = addState(scope, `${step.id}.check${suffix || `${mark}1`}`, {
        Type: 'Choice',
        Choices: [{ ...compilePredicate(scope, step.until), Next: exit }],
        Default: cont,
      });
    }
    // step paths as Baton's interpreter names them: <loop>@<iteration>/<step>
    cont = block({ ...scope, prefix: `${scope.prefix}${step.id}@${i}/` }, body, cont) ?? cont;
  }
  return cont;
}

/** A copy of a step whose ids (its own and its children's) carry `suffix`, so state names stay unique. */
function renamed(step: StepIR, suffix: string, stepIds: Map<string, string>): StepIR {
  const s = structuredClone(step) as StepIR & Record<string, unknown>;
  const visit = (x: Record<string, unknown>): void => {
    if (typeof x.id === 'string' && typeof x.kind === 'string') {
      // a copy of a copy (a loop unrolled inside another) still names its original step
      stepIds.set(x.id + suffix, stepIds.get(x.id) ?? x.id);
      x.id = x.id + suffix;
    }
    for (const v of Object.values(x)) {
      if (Array.isArray(v)) v.forEach((e) => e && typeof e === 'object' && visit(e as Record<string, unknown>));
      else if (v && typeof v === 'object') visit(v as Record<string, unknown>);
    }
  };
  visit(s);
  return s;
}
