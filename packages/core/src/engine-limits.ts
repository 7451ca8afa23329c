/**
 * Limits of a production engine, as data. The local engine enforces them when given
 * (`limits: STEP_FUNCTIONS_LIMITS`, or its shorthand `emulate: 'stepfunctions'`), so a pipeline
 * that would break there breaks here first, with the same error code.
 *
 * @example
 * ```ts
 * import { createLocalEngine } from '@baton/core';
 * import { STEP_FUNCTIONS_LIMITS } from '@baton/core/engine';
 *
 * const engine = createLocalEngine({ pipelines: [report], limits: STEP_FUNCTIONS_LIMITS });
 * // a section output of 300 KB now fails States.DataLimitExceeded, as on Step Functions
 * ```
 */
export interface EngineLimits {
  /** The engine, as errors name it (`Step Functions`). */
  engine: string;
  /**
   * Largest JSON (in bytes) one state may carry: a task's output, a map's or parallel's
   * aggregated result. Over it the step fails `States.DataLimitExceeded`, not retried.
   */
  maxStateBytes?: number;
}

/** Step Functions' limits: 256 KB per state (input, output, a map's or parallel's result). */
export const STEP_FUNCTIONS_LIMITS: Readonly<EngineLimits> & { readonly maxStateBytes: number } = Object.freeze({
  engine: 'Step Functions',
  maxStateBytes: 256 * 1024,
});

/** The message of a state over `limits.maxStateBytes`: `<what> is <n> bytes, over <engine>' 256 KB state limit: <fix>`. */
export function stateLimitMessage(limits: EngineLimits, what: string, bytes: number, fix: string): string {
  const kb = Math.round((limits.maxStateBytes ?? 0) / 1024);
  const owner = limits.engine.endsWith('s') ? `${limits.engine}'` : `${limits.engine}'s`;
  return `${what} is ${bytes} bytes, over ${owner} ${kb} KB state limit: ${fix}`;
}
