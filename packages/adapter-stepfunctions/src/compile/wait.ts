import type { WaitIR } from '@baton/core/engine';
import { addState, rootPath, transition, type Continuation, type Scope } from './context.js';

/** The longest an EXPRESS execution may run. */
export const EXPRESS_MAX_SECONDS = 300;

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
  if (scope.ctx.type === 'EXPRESS' && step.seconds !== undefined && step.seconds > EXPRESS_MAX_SECONDS) {
    scope.ctx.issues.push({
      severity: 'error',
      step: scope.prefix + step.id,
      message: `wait of ${step.seconds} s is longer than an EXPRESS workflow may run (5 minutes); deploy as STANDARD`,
    });
  }
  return addState(scope, step.id, { Type: 'Wait', ...timing, ...transition(next) });
}
