import type { MapIR } from '@baton/core/engine';
import { addState, transition, type Continuation, type Scope } from './context.js';
import type { AslState } from './types.js';

/** Intrinsic functions Step Functions allows in one field. */
export const MAX_INTRINSICS_PER_FIELD = 10;

/**
 * Enforces a map's tolerated failures the way Baton's interpreter does, on any map mode and
 * workflow type. Step Functions honours ToleratedFailurePercentage/Count only on DISTRIBUTED maps,
 * and Baton's items catch their own failures (an item's failure is recorded as
 * `{ status: 'failed', error }`, never seen by Step Functions as a failed iteration), so the
 * compiled machine counts itself:
 *
 * - the Map's ResultSelector keeps the items and their `total`; unless the map was empty, a Pass
 *   counts the failed items (the JSON of `items[*].status` split at the letter f, which only
 *   "failed" contains: a filter matching no item is a runtime error where Step Functions'
 *   JSONPath finds nothing) and builds the failure message;
 * - for a percentage p below 100, Pass states compute `failed × b` and `total × a` with
 *   `States.MathAdd` (ASL has no multiplication), where a/b is p/100 in lowest terms, so the test
 *   `failed / total × 100 > p` is exact: one Pass when a and b are at most 10 (10 %, 20 %, 25 %,
 *   50 %…), up to three for p = 1 % or 33 %;
 * - a Choice fails the run with `States.ExceedToleratedFailureThreshold` (the interpreter's code
 *   and message) when `failed > count` or `failed × b > total × a`, and a Pass puts the item
 *   array back at the result path.
 *
 * A fatal item failure (`FATAL_CODES`) never reaches the count: the item re-raises it and the Map
 * fails with it before these states (see `compileMap`), as the interpreter fails the map.
 *
 * Costs per map run (not per item): two Choices, the counting and result Passes, and the
 * multiplying Passes.
 *
 * Baton's semantics are Step Functions' for a DISTRIBUTED Map Run: the map fails as soon as its
 * failures pass the threshold, and no item starts after. Iterations of a Map state share no
 * state, so an item can only tell that on its own when its failure alone passes the threshold
 * (`toleratedFailureCount: 0`, or a percentage of the run's item count below one item): then it
 * fails the Map state at once (see {@link stopOnFirstFailure}), which starts no
 * further iteration. A threshold that tolerates failures is counted after every item ran.
 * Returns false when there is nothing to enforce.
 */
export function enforceTolerance(scope: Scope, step: MapIR, state: AslState, next: Continuation): boolean {
  const count = step.toleratedFailureCount;
  const pct = step.toleratedFailurePercentage !== undefined && step.toleratedFailurePercentage < 100 ? step.toleratedFailurePercentage : undefined;
  if (count === undefined && pct === undefined) return false;
  const rp = state.ResultPath as string | null | undefined;
  if (rp === null || rp === undefined) {
    scope.ctx.issues.push({
      severity: 'error',
      step: scope.prefix + step.id,
      message: `map "${step.id}" discards its results (resultPath null) but has a tolerated failure threshold: the machine counts failed items in the results, so give the map a resultPath`,
    });
    return false;
  }
  const at = (f: string): string => (rp === '$' ? `$.${f}` : `${rp}.${f}`);
  state.ResultSelector = { 'items.$': '$', 'total.$': 'States.ArrayLength($)' };
  const exceeded = addState(scope, `${step.id}.exceeded`, { Type: 'Fail', Error: 'States.ExceedToleratedFailureThreshold', CausePath: at('count.cause') });
  const results = addState(scope, `${step.id}.results`, { Type: 'Pass', InputPath: at('items'), ResultPath: rp, ...transition(next) });
  const rules: Record<string, unknown>[] = [];
  if (count !== undefined) rules.push({ Variable: at('count.failed'), NumericGreaterThan: count });
  let afterCount = `${step.id}.tolerance`;
  if (pct !== undefined) {
    const { a, b } = ratio(pct);
    if (a === 0) rules.push({ Variable: at('count.failed'), NumericGreaterThan: 0 });
    else {
      rules.push({ Variable: at('ratio.failed'), NumericGreaterThanPath: at('ratio.limit') });
      afterCount = multiplyStates(scope, step.id, at, b, a, afterCount);
    }
  }
  addState(scope, `${step.id}.tolerance`, {
    Type: 'Choice',
    Choices: [{ ...(rules.length === 1 ? rules[0] : { Or: rules }), Next: exceeded }],
    Default: results,
  });
  // 'f' occurs once in "failed" and never in "succeeded": the pieces of the statuses' JSON split at 'f' count the failures plus one
  const failed = `States.MathAdd(States.ArrayLength(States.StringSplit(States.JsonToString(${at('items')}[*].status), 'f')), -1)`;
  const counted = addState(scope, `${step.id}.count`, {
    Type: 'Pass',
    // CausePath takes a path, so the run's failure message is built here
    Parameters: {
      'failed.$': failed,
      'cause.$': `States.Format('map "${escapeFormat(step.id)}": {} of {} items failed, more than tolerated', ${failed}, ${at('total')})`,
    },
    ResultPath: at('count'),
    Next: afterCount,
  });
  // an empty map has nothing to count (and a wildcard over no items matches nothing)
  const any = addState(scope, `${step.id}.any`, {
    Type: 'Choice',
    Choices: [{ Variable: at('total'), NumericGreaterThan: 0, Next: counted }],
    Default: results,
  });
  delete state.End;
  state.Next = any;
  const stopsEarly = stopOnFirstFailure(scope, step, state, pct);
  // only a count of 0 stops every over-threshold map inside the Map state, where its catch sees it
  const countsAfter = !stopsEarly || count !== 0;
  if (countsAfter && step.catch?.some((c) => c.errors.includes('States.ExceedToleratedFailureThreshold') || c.errors.includes('States.ALL'))) {
    scope.ctx.issues.push({
      severity: 'warning',
      step: scope.prefix + step.id,
      message:
        'a catch on this map does not see States.ExceedToleratedFailureThreshold once failures are tolerated: the threshold fails the run after the Map state',
    });
  }
  return true;
}

/**
 * Makes a map item whose failure alone passes the threshold fail the Map state with
 * `States.ExceedToleratedFailureThreshold` and the interpreter's message (`1 of <total> items`)
 * instead of recording `{ status: 'failed', error }`: an iteration failing uncaught fails the
 * Map state, which starts no further iteration (and, on AWS, stops those in flight; in
 * DISTRIBUTED mode the failed child execution passes the native threshold set on the Map). The
 * item's state carries the item count (`$.total`, from the ItemSelector) for the decision and
 * the message. Returns false when no single failure can pass the threshold, or when items carry
 * no state of their own (`itemStepPaths: 'plain'`: their state is their result).
 */
function stopOnFirstFailure(scope: Scope, step: MapIR, state: AslState, pct: number | undefined): boolean {
  const count = step.toleratedFailureCount;
  // the smallest item count on which one failure is tolerated: one failure passes the threshold below it
  let tolerantFrom = count === 0 ? Infinity : 0;
  if (pct !== undefined) {
    const { a, b } = ratio(pct);
    tolerantFrom = Math.max(tolerantFrom, a === 0 ? Infinity : Math.ceil(b / a));
  }
  if (tolerantFrom === 0 || scope.ctx.itemStepPaths === 'plain') return false;
  const processor = state.ItemProcessor as { States: Record<string, AslState> };
  const item: Scope = { ...scope, states: processor.States };
  const recorded = `${step.id}.failed`;
  // fail steps inside the item record their failure directly: route them through the same decision
  const failSteps = Object.entries(item.states).filter(
    ([, st]) => st.Type === 'Pass' && (st.Result as { status?: string } | undefined)?.status === 'failed' && st.End === true,
  );
  if (!item.states[recorded] && failSteps.length === 0) return false;
  for (const [, st] of failSteps) {
    st.Result = (st.Result as { error: unknown }).error;
    st.ResultPath = '$.error';
    delete st.End;
    st.Next = recorded;
  }
  const record = item.states[recorded] ?? { Type: 'Pass', Parameters: { status: 'failed', 'error.$': '$.error' }, End: true };
  delete item.states[recorded];
  const fail = addState(item, `${step.id}.over.fail`, { Type: 'Fail', Error: 'States.ExceedToleratedFailureThreshold', CausePath: '$.over.cause' });
  const over = addState(item, `${step.id}.over`, {
    Type: 'Pass',
    Parameters: { 'cause.$': `States.Format('map "${escapeFormat(step.id)}": 1 of {} items failed, more than tolerated', $.total)` },
    ResultPath: '$.over',
    Next: fail,
  });
  if (tolerantFrom === Infinity) addState(item, recorded, { Type: 'Pass', Next: over });
  else {
    const keep = addState(item, `${recorded}.record`, record);
    addState(item, recorded, { Type: 'Choice', Choices: [{ Variable: '$.total', NumericLessThan: tolerantFrom, Next: over }], Default: keep });
  }
  state.ItemSelector = { ...(state.ItemSelector as Record<string, unknown>), 'total.$': `States.ArrayLength(${state.ItemsPath as string})` };
  return true;
}

/** `pct / 100` as a fraction `a / b` of integers in lowest terms. */
export function ratio(pct: number): { a: number; b: number } {
  let scale = 1;
  while (!Number.isInteger(pct * scale) && scale < 1e6) scale *= 10;
  const a = Math.round(pct * scale);
  const b = 100 * scale;
  const g = gcd(a, b);
  return { a: a / g, b: b / g };
}

/**
 * Pass states writing `{ failed: failed × fm, limit: total × tm }` at `ratio`, then going to
 * `next`. Each field stays within {@link MAX_INTRINSICS_PER_FIELD}: a factor up to 10 is a
 * MathAdd tree of at most 10 leaves; larger factors go digit by digit (`acc + step × digit`,
 * `step × 10`), one Pass per decimal digit.
 */
function multiplyStates(scope: Scope, id: string, at: (f: string) => string, fm: number, tm: number, next: string): string {
  const plan = (c: number): number[] => (c <= 10 ? [c] : [...String(c)].reverse().map(Number));
  const fd = plan(fm);
  const td = plan(tm);
  const passes = Math.max(fd.length, td.length);
  const names = Array.from({ length: passes }, (_, k) => `${id}.ratio${passes === 1 ? '' : k + 1}`);
  names.forEach((name, k) => {
    const params: Record<string, unknown> = {};
    for (const [field, base, digits] of [
      ['failed', at('count.failed'), fd],
      ['limit', at('total'), td],
    ] as const) {
      const acc = k === 0 ? [] : [at(`ratio.${field}`)];
      const step = k === 0 ? base : at(`ratio.${field}Step`);
      const value = sum([...acc, ...Array<string>(digits[k] ?? 0).fill(step)]);
      if (typeof value === 'number') params[field] = value;
      else params[`${field}.$`] = value;
      if (k < passes - 1) params[`${field}Step.$`] = sum(Array<string>(10).fill(step));
    }
    addState(scope, name, { Type: 'Pass', Parameters: params, ResultPath: at('ratio'), Next: names[k + 1] ?? next });
  });
  return names[0]!;
}

/** A sum of paths as a balanced `States.MathAdd` tree (a path alone, or 0 for none). */
function sum(paths: string[]): string | number {
  if (paths.length === 0) return 0;
  if (paths.length === 1) return paths[0]!;
  const mid = Math.ceil(paths.length / 2);
  const left = sum(paths.slice(0, mid));
  const right = sum(paths.slice(mid));
  return `States.MathAdd(${left}, ${right})`;
}

function gcd(x: number, y: number): number {
  return y === 0 ? x : gcd(y, x % y);
}

function escapeFormat(s: string): string {
  return s.replace(/[\\'{}]/g, (c) => `\\${c}`);
}
