import type { WaitIR } from '@baton/core';
import { addState, rootPath, transition, type Continuation, type Scope } from './context.js';

/** A wait as a Wait state (`Seconds`, `SecondsPath` or `Timestamp`). */
export function compileWait(scope: Scope, step: WaitIR, next: Continuation): string {
  const timing =
    step.seconds !== undefined
      ? { Seconds: Math.ceil(step.seconds) }
      : step.secondsPath !== undefined
        ? { SecondsPath: rootPath(scope, step.secondsPath) }
        : { Timestamp: step.until };
  if (step.seconds !== undefined && !Number.isInteger(step.seconds)) {
    scope.ctx.issues.push({ severity: 'warning', step: scope.prefix + step.id, message: `wait of ${step.seconds} s is rounded up to whole seconds` });
  }
  return addState(scope, step.id, { Type: 'Wait', ...timing, ...transition(next) });
}
