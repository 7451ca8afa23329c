import { isFatalCode, type FailIR, type SucceedIR } from '@baton/core/engine';
import { addState, type Scope } from './context.js';

/** `succeed` ends the run, branch or map item with the current state. */
export function compileSucceed(scope: Scope, step: SucceedIR): string {
  if (scope.itemOk) return scope.itemOk;
  if (scope.blockEnd) return scope.blockEnd;
  return addState(scope, step.id, { Type: 'Succeed' });
}

/**
 * `fail` as a Fail state. Inside a map item with a failure threshold, the item's failure is
 * recorded as `{ status: 'failed', error }` instead, as Baton does, unless the code is fatal
 * (a fatal error fails the map whatever its threshold).
 */
export function compileFail(scope: Scope, step: FailIR): string {
  const message = step.cause ?? `failed at step "${step.id}"`;
  if (scope.itemFailed && !isFatalCode(step.error)) {
    return addState(scope, step.id, { Type: 'Pass', Result: { status: 'failed', error: { code: step.error, message, retryable: false } }, End: true });
  }
  return addState(scope, step.id, { Type: 'Fail', Error: step.error, Cause: message });
}
