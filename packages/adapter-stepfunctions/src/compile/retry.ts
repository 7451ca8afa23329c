import { ALL_ERRORS, ERROR_CODES, type RetryPolicy } from '@baton/core';
import { NEVER_RETRIED, RETRY_DEFAULTS, defaultRetryable, walkSteps, type StepIR } from '@baton/core/engine';
import type { CompileContext } from './context.js';

/**
 * Codes Baton never retries even under `States.ALL`: {@link NEVER_RETRIED} plus every built-in
 * code that is not retryable (ValidationFailed goes to repair, not to a blind retry). The `api`
 * codes are refusals of engine API calls, never a state's error: they are left out of the ASL.
 */
export const NON_RETRYABLE_CODES: readonly string[] = [
  ...new Set([
    ...NEVER_RETRIED,
    ...Object.entries(ERROR_CODES)
      .filter(([, v]) => !v.retryable && v.class !== 'api')
      .map(([k]) => k),
  ]),
];

/** The compiled `Retry` array of a state and, index by index, the Baton policy behind each retrier. */
export interface CompiledRetry {
  retry: Record<string, unknown>[];
  policies: (RetryPolicy | null)[];
}

/**
 * Translates Baton retriers into ASL retriers. Baton's `States.ALL` never retries a
 * non-retryable code, while ASL's does; so a leading `MaxAttempts: 0` retrier for those codes is
 * emitted first (ASL evaluates retriers in order and stops at the first match). ASL counts in
 * whole seconds: a sub-second interval or cap is rounded up to the next second, with a warning.
 *
 * `failCodes`: the codes of the `fail` steps inside a retried map or parallel (see
 * {@link failCodesIn}). A fail step's error is not retryable, so Baton's `States.ALL` does not
 * retry the map or parallel it fails, where ASL's would run the branch again: under `States.ALL`
 * they join the leading retrier, unless a retrier names them (then they are retried, as in
 * Baton) or the table calls them retryable (a stage may throw them too: a warning says ASL
 * retries both).
 */
export function compileRetry(policies: readonly RetryPolicy[], ctx: CompileContext, step: string, failCodes: readonly string[] = []): CompiledRetry {
  if (policies.length === 0) return { retry: [], policies: [] };
  const retry: Record<string, unknown>[] = [];
  const out: (RetryPolicy | null)[] = [];
  const wildcard = policies.some((p) => p.errors.includes(ALL_ERRORS));
  const named = new Set(policies.flatMap((p) => p.errors).filter((c) => NEVER_RETRIED.includes(c)));
  const blocked = wildcard ? [...NON_RETRYABLE_CODES, ...blockedFailCodes(policies, failCodes, ctx, step)] : [...named];
  if (blocked.length > 0) {
    retry.push({ ErrorEquals: [...blocked], MaxAttempts: 0 });
    out.push(null);
  }
  for (const p of policies) {
    const errors = p.errors.includes(ALL_ERRORS) ? [ALL_ERRORS] : p.errors.filter((c) => !NEVER_RETRIED.includes(c));
    if (errors.length === 0) continue;
    const r: Record<string, unknown> = {
      ErrorEquals: errors,
      IntervalSeconds: seconds(p.intervalMs ?? RETRY_DEFAULTS.intervalMs, ctx, step, 'intervalMs'),
      BackoffRate: p.backoffRate ?? RETRY_DEFAULTS.backoffRate,
      MaxAttempts: p.maxAttempts ?? RETRY_DEFAULTS.maxAttempts,
    };
    if (p.maxDelayMs !== undefined) r.MaxDelaySeconds = seconds(p.maxDelayMs, ctx, step, 'maxDelayMs');
    if (p.jitter) r.JitterStrategy = p.jitter;
    retry.push(r);
    out.push(p);
  }
  const allAt = retry.findIndex((r) => (r.ErrorEquals as string[]).includes(ALL_ERRORS));
  if (allAt !== -1 && allAt !== retry.length - 1) {
    ctx.issues.push({ severity: 'error', step, message: 'a States.ALL retrier must be the last one (ASL rule)' });
  }
  return { retry, policies: out };
}

function seconds(ms: number, ctx: CompileContext, step: string, field: string): number {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s * 1000 !== ms) {
    ctx.issues.push({
      severity: 'warning',
      step,
      message: `${field} ${ms} ms is rounded up to ${s} s: ASL counts retry delays in whole seconds (at least 1)`,
    });
  }
  return s;
}

/** The codes of the `fail` steps in `steps`, at any depth (what a map or parallel may fail with from a fail step). */
export function failCodesIn(steps: readonly StepIR[]): string[] {
  const codes = new Set<string>();
  walkSteps(steps, (s) => {
    if (s.kind === 'fail') codes.add(s.error);
  });
  return [...codes];
}

/** Fail-step codes a `States.ALL` retrier must not retry (see {@link compileRetry}). */
function blockedFailCodes(policies: readonly RetryPolicy[], failCodes: readonly string[], ctx: CompileContext, step: string): string[] {
  const named = new Set(policies.flatMap((p) => p.errors));
  return failCodes.filter((code) => {
    if (named.has(code) || NON_RETRYABLE_CODES.includes(code)) return false;
    if (!defaultRetryable(code) || !(code in ERROR_CODES)) return true;
    ctx.issues.push({
      severity: 'warning',
      step,
      message: `a fail step fails with ${code}, which a stage may throw as retryable: ASL's States.ALL retries both (Baton's does not retry the fail step's)`,
    });
    return false;
  });
}
