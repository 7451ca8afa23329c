import type { AslDefinition } from '../compile/types.js';

/** Longest timer Node can hold (2^31-1 ms), in whole seconds: about 24.8 days. */
export const MAX_LOCAL_TIMER_SECONDS = 2_147_483;

/**
 * A copy of `definition` whose `TimeoutSeconds` and `HeartbeatSeconds` (the machine's and every
 * state's, nested ones included) are at most {@link MAX_LOCAL_TIMER_SECONDS}. aws-local-stepfunctions
 * arms a Node timer for each, and Node fires a longer timer at once (TimeoutOverflowWarning): a
 * deployed machine's execution timeout of 36 days (one day plus five 7-day review rounds) would
 * end every local run at its start. On AWS the definition keeps its own values.
 */
export function clampLocalTimers<T extends AslDefinition | Record<string, unknown>>(definition: T): T {
  const copy = structuredClone(definition);
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node !== null && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      for (const key of ['TimeoutSeconds', 'HeartbeatSeconds']) {
        if (typeof record[key] === 'number') record[key] = Math.min(record[key], MAX_LOCAL_TIMER_SECONDS);
      }
      for (const [key, value] of Object.entries(record)) if (key !== 'Parameters' && key !== 'Arguments') visit(value);
    }
  };
  visit(copy);
  return copy;
}
