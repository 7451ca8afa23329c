import { ALL_ERRORS, isFatalCode } from './errors.js';

/**
 * Codes a `States.ALL` catcher does not catch, as on Step Functions, where `States.ALL` cannot
 * catch runtime errors (a data path that does not resolve, an input that cannot be processed) nor
 * the terminal `States.DataLimitExceeded` (a state's output over 256 KB): the run fails with them.
 * A catcher naming the code catches it (a failure a stage reports under that name). The fatal
 * codes (`FATAL_CODES`) are not caught by `States.ALL` either.
 */
export const NOT_CAUGHT_BY_ALL: readonly string[] = ['States.Runtime', 'States.DataLimitExceeded'];

/**
 * Whether a catcher matching `errors` catches `code`: it names the code, or it is `States.ALL`
 * and the code is neither fatal nor in {@link NOT_CAUGHT_BY_ALL}.
 *
 * @example
 * ```ts
 * catches(['States.ALL'], 'ValidationFailed'); // true
 * catches(['States.ALL'], 'States.Runtime'); // false
 * catches(['States.ALL'], 'States.DataLimitExceeded'); // false
 * catches(['States.Runtime'], 'States.Runtime'); // true
 * ```
 */
export function catches(errors: readonly string[], code: string): boolean {
  if (errors.includes(code)) return true;
  return errors.includes(ALL_ERRORS) && !isFatalCode(code) && !NOT_CAUGHT_BY_ALL.includes(code);
}
