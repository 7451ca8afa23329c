import { ERROR_CODES, type SerializedError } from '@baton/core';
import { type ErrorCodeInfo } from '@baton/core/engine';
import type { FailureClass } from './types.js';

/** What is known about where an error happened, beyond the error itself. */
export interface FailureContext {
  /** The stage that failed, when a task failed. */
  stage?: string;
  /** The step path (`sections[2]/generate`). */
  stepPath?: string;
  /** Model calls the failed attempt made. */
  modelCalls?: number;
}

/** Decides the class of a failure; pass your own to {@link createRegistryObserver} to refine it. */
export type FailureClassifier = (error: SerializedError, context: FailureContext) => FailureClass;

/**
 * The class of each code of core's table (`ERROR_CODES`, where each code has its class); `api`
 * codes refuse an engine call and never fail a run, so they have no failure class.
 */
const BY_CODE: Record<string, FailureClass> = {
  ...Object.fromEntries(
    (Object.entries(ERROR_CODES) as [string, ErrorCodeInfo][]).flatMap(([code, info]) => (info.class === 'api' ? [] : [[code, info.class]])),
  ),
  // the report has fewer generated sections than its minimum (check-outcome): the content fell short
  ReportIncomplete: 'validation',
};

/** Codes that say the deployment is wrong, not the content: their class holds in any stage, the assemble stage included. */
const DEPLOYMENT_FAULTS: readonly string[] = ['ModelAccessDenied', 'ConfigurationError'];

const ASSEMBLY = /assembl/i;

/**
 * The default classification: the assemble stage's failures are `assembly` whatever their code
 * (a template or DOCX error is not a model's fault), except the deployment's own faults
 * (`ModelAccessDenied` is `model` and `ConfigurationError` `infrastructure` in any stage); model
 * codes are `model`; validation and rejected reviews are `validation`; safety is `safety`; a map
 * that exceeded its tolerated failures takes the most common class of its failed items; the rest
 * is `infrastructure`.
 */
export const classifyFailure: FailureClassifier = (error, context) => {
  if (DEPLOYMENT_FAULTS.includes(error.code)) return BY_CODE[error.code]!;
  if ((context.stage && ASSEMBLY.test(context.stage)) || ASSEMBLY.test(error.code)) return 'assembly';
  if (error.code === 'States.ExceedToleratedFailureThreshold') return dominantItemClass(error) ?? 'infrastructure';
  if (error.code === 'ServiceUnavailableException') return (context.modelCalls ?? 0) > 0 ? 'model' : 'infrastructure';
  return BY_CODE[error.code] ?? 'infrastructure';
};

function dominantItemClass(error: SerializedError): FailureClass | undefined {
  const results = (error.details as { results?: unknown } | undefined)?.results;
  if (!Array.isArray(results)) return undefined;
  const counts = new Map<FailureClass, number>();
  for (const r of results) {
    const item = r as { status?: string; error?: SerializedError } | null;
    if (item?.status !== 'failed' || !item.error) continue;
    const c = classifyFailure(item.error, {});
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best: FailureClass | undefined;
  for (const [c, n] of counts) if (best === undefined || n > (counts.get(best) ?? 0)) best = c;
  return best;
}
