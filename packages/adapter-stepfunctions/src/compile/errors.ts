import { ALL_ERRORS } from '@baton/core';
import { FATAL_CODES, NOT_CAUGHT_BY_ALL, type CatchIR, type StepIR, type TaskIR } from '@baton/core/engine';
import { addState, child, covers, resultPath, type Continuation, type RawError, type Scope } from './context.js';
import type { AslState } from './types.js';

/**
 * How a failure's `Cause` is encoded. A Lambda that throws is reported by Step Functions as
 * `{ Error: errorType, Cause: '{"errorType","errorMessage","trace"}' }`, and Baton's handlers put
 * the serialized error in `errorMessage` (`lambda`); SendTaskFailure passes the cause as given,
 * and Baton's review API passes the serialized error (`direct`).
 */
export type CauseEncoding = RawError['encoding'];

/**
 * Emits the states that turn the `{ Error, Cause }` written at `target` into Baton's
 * `{ code, message, retryable, details }`, then continue at `next`. Returns the first state.
 * Only failure paths pay for these states.
 *
 * Not every failure carries Baton's JSON: a Lambda that timed out or crashed (`Sandbox.Timedout`,
 * `Runtime.ExitError`: `errorMessage` is Lambda's text), a Lambda service error
 * (`Lambda.TooManyRequestsException`: `Cause` is plain text), a heartbeat or task timeout (no
 * `Cause`). `States.StringToJson` of such text would fail the execution with `States.Runtime`, so
 * Choice states parse only what starts with `{` and turn the rest into
 * `{ code: Error, message: <the text>, retryable: false }`, as `errorFromCause` does in a Lambda.
 */
export function parseErrorStates(scope: Scope, base: string, target: string, encoding: CauseEncoding, next: string): string {
  const move = addState(scope, `${base}.error`, { Type: 'Pass', InputPath: child(target, 'e'), ResultPath: target, Next: next });
  const plain = (name: string, message: string | undefined): string =>
    addState(scope, `${base}.${name}`, {
      Type: 'Pass',
      Parameters: { e: { 'code.$': child(target, 'Error'), ...(message ? { 'message.$': message } : { message: '' }), retryable: false } },
      ResultPath: target,
      Next: move,
    });
  /** A Choice: `path` holds a string starting with `{` → `json`; a string → `text`; else → `absent`. */
  const jsonOr = (name: string, path: string, json: string, text: string, absent: string): string =>
    addState(scope, `${base}.${name}`, {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: path, IsPresent: true },
            { Variable: path, IsString: true },
            { Variable: path, StringMatches: '{*' },
          ],
          Next: json,
        },
        {
          And: [
            { Variable: path, IsPresent: true },
            { Variable: path, IsString: true },
          ],
          Next: text,
        },
      ],
      Default: absent,
    });
  const noCause = plain('no-cause', undefined);
  const parsed = addState(scope, `${base}.cause`, {
    Type: 'Pass',
    Parameters: { 'e.$': `States.StringToJson(${child(target, encoding === 'lambda' ? 'e.errorMessage' : 'Cause')})` },
    ResultPath: target,
    Next: move,
  });
  if (encoding === 'direct') return jsonOr('decode', child(target, 'Cause'), parsed, plain('text', child(target, 'Cause')), noCause);
  // lambda: the Cause is Lambda's JSON envelope `{ errorType, errorMessage, trace }` whose errorMessage is Baton's JSON
  const message = jsonOr(
    'message',
    child(target, 'e.errorMessage'),
    parsed,
    plain('lambda-text', child(target, 'e.errorMessage')),
    plain('lambda-no-message', undefined),
  );
  const envelope = addState(scope, `${base}.envelope-json`, {
    Type: 'Pass',
    Parameters: { 'e.$': `States.StringToJson(${child(target, 'Cause')})`, 'Error.$': child(target, 'Error') },
    ResultPath: target,
    Next: message,
  });
  return jsonOr('envelope', child(target, 'Cause'), envelope, plain('text', child(target, 'Cause')), noCause);
}

/** A compiled `Catch` entry. */
export type AslCatcher = { ErrorEquals: string[]; ResultPath: string | null; Next: string };

/**
 * Compiles Baton catchers: each writes the raw error at its result path, which is turned into
 * Baton's error shape before the handler block reads it, then the run continues after the failed
 * step. When the handler block starts with a task whose Lambda gets the state (lambda:invoke with
 * a result path below the root, see `compileTask`), that Lambda decodes the error on the way in
 * and returns the state with it decoded: no state added. Otherwise (a Choice or a Pass reads the
 * error, the handler is empty, the error would reach the output as is) Pass states parse it.
 *
 * `undecoded`: raw errors in the state that the step's own Lambda decodes (it is such a first
 * task). When the step fails, its Lambda returned nothing, so they are still raw: a catcher of
 * the step that keeps them in the state (its result path does not cover them) parses them with
 * Pass states before its handler. Only these failure paths pay for it.
 *
 * `handlers`, when given, receives the first state of each catcher's handler block (after the
 * parsing states), by catcher index: where another failure path that writes an error already in
 * Baton's shape joins it (an approval gate's timeout).
 */
export function compileCatchers(
  scope: Scope,
  stepId: string,
  catchers: readonly CatchIR[] | undefined,
  next: Continuation,
  encoding: CauseEncoding,
  compileBlock: (scope: Scope, steps: CatchIR['steps'], next: Continuation) => Continuation,
  undecoded: readonly RawError[] = [],
  handlers?: string[],
): AslCatcher[] {
  const out: AslCatcher[] = [];
  (catchers ?? []).forEach((c, i) => {
    const target = resultPath(scope, c.resultPath === undefined ? '$.error' : c.resultPath);
    const decoder = target === null || scope.ctx.lambdaIntegration !== 'invoke' ? undefined : firstTask(c.steps);
    if (decoder) scope.ctx.rawErrors.set(decoder, [...(scope.ctx.rawErrors.get(decoder) ?? []), { path: target!, encoding }]);
    let handler = compileBlock(scope, c.steps, next) ?? endState(scope, `${stepId}.catch${i}.end`);
    if (handlers) handlers[i] = handler;
    const kept = undecoded.filter((raw) => target === null || !covers(target, raw.path));
    kept.reverse().forEach((raw, j) => {
      handler = parseErrorStates(scope, `${stepId}.catch${i}.input${kept.length > 1 ? kept.length - j : ''}`, raw.path, raw.encoding, handler);
    });
    const errors = c.errors.includes(ALL_ERRORS) ? [ALL_ERRORS] : c.errors;
    if (target === null) out.push({ ErrorEquals: errors, ResultPath: null, Next: handler });
    else if (decoder !== undefined && scope.ctx.decodedErrors.has(decoder)) out.push({ ErrorEquals: errors, ResultPath: target, Next: handler });
    else out.push({ ErrorEquals: errors, ResultPath: target, Next: parseErrorStates(scope, `${stepId}.catch${i}`, target, encoding, handler) });
  });
  return guardFatal(scope, stepId, out);
}

/**
 * Puts a catcher of the fatal codes (`FATAL_CODES`) and of `NOT_CAUGHT_BY_ALL` (`States.Runtime`,
 * `States.DataLimitExceeded`) before a `States.ALL` catcher, as Baton's `States.ALL` does not
 * catch them: it goes to a Fail state re-raising the error with its own `Error` and `Cause`
 * (`ErrorPath`/`CausePath`), so the run fails as if nothing had caught it. (Step Functions' own runtime errors never reach a
 * catcher; this one re-raises a `States.Runtime` a stage Lambda reports, as when it selects its
 * input from the state.)
 * Codes an earlier catcher names are left to it. Only failure paths reach these states.
 * The Fail state is `<base>.fatal`, one per base in the scope.
 */
export function guardFatal(
  scope: Scope,
  base: string,
  catchers: AslCatcher[],
  uncaught: readonly string[] = [...FATAL_CODES, ...NOT_CAUGHT_BY_ALL],
): AslCatcher[] {
  const at = catchers.findIndex((c) => c.ErrorEquals.includes(ALL_ERRORS));
  if (at === -1) return catchers;
  const named = new Set(catchers.slice(0, at).flatMap((c) => c.ErrorEquals));
  const codes = uncaught.filter((c) => !named.has(c));
  if (codes.length === 0) return catchers;
  const fail = `${base}.fatal`;
  if (!scope.states[fail]) addState(scope, fail, { Type: 'Fail', ErrorPath: '$.Error', CausePath: '$.Cause' });
  return [...catchers.slice(0, at), { ErrorEquals: codes, ResultPath: '$', Next: fail }, ...catchers.slice(at)];
}

/**
 * {@link guardFatal} of the fatal codes over the `Catch` of every state of a scope, with one Fail
 * state for all. For catchers added after `compileCatchers` (the per-item `States.ALL` of a
 * tolerant map, which records any other failure, `States.Runtime` too, as the item's, as Baton's
 * interpreter does).
 */
export function guardFatalStates(scope: Scope, base: string, states: Record<string, AslState>): void {
  for (const state of Object.values(states)) {
    if (Array.isArray(state.Catch)) state.Catch = guardFatal(scope, base, state.Catch as AslCatcher[], FATAL_CODES);
  }
}

/** The state that ends a block where a name is needed (a Succeed, or the item's success state). */
export function endState(scope: Scope, name: string): string {
  if (scope.itemOk) return scope.itemOk;
  if (scope.blockEnd) return scope.blockEnd;
  return scope.states[name] ? name : addState(scope, name, { Type: 'Succeed' });
}

/**
 * The task that runs first in a handler block (through loops, whose body runs at least once).
 * Its own catchers get the parsing states for the error it would have decoded (see
 * `compileCatchers`'s `undecoded`).
 */
function firstTask(steps: readonly StepIR[]): TaskIR | undefined {
  const first = steps[0];
  if (first?.kind === 'loop') return firstTask(first.steps);
  return first?.kind === 'task' ? first : undefined;
}
