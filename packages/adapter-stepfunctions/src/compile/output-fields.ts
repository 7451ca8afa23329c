import type { AnyPipeline } from '@baton/core';

/**
 * What the compiler knows of a stage's output: the keys that are always present (a Task can pick
 * each from `$.Payload` in its ResultSelector), or why it cannot rely on them.
 */
export type OutputFields = { keys: string[] } | { reason: string };

/** A key a ResultSelector field and a `$.Payload.<key>` (or any dotted ASL) path can both carry as written. */
export const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Field types whose parsed value may be `undefined` (the key then disappears from the JSON). */
const MAYBE_UNDEFINED = new Set(['unknown', 'any', 'undefined', 'void', 'never', 'optional', 'pipe', 'transform', 'custom', 'lazy', 'promise']);

/** The zod 4 internals read here (`schema._zod`): stable across zod 4 minors, and free of `instanceof` across bundles. */
interface ZodInternals {
  _zod?: { def?: { type?: string; shape?: Record<string, unknown>; catchall?: { _zod?: { def?: { type?: string } } } }; optout?: string };
  safeParse?: (value: unknown) => { success: boolean; data?: unknown };
}

/** {@link outputFieldsOf} for every stage of a pipeline, by stage name. */
export function stageOutputFields(pipeline: AnyPipeline): Map<string, OutputFields> {
  return new Map([...pipeline.stages].map(([name, stage]) => [name, outputFieldsOf(stage.output)]));
}

/**
 * The keys of an output schema when it is a zod object whose every key is present after parsing
 * (not optional, not `undefined`-able: a default is fine, `null` is fine) and that keeps no
 * unknown keys: then `{ "<k>.$": "$.Payload.<k>" }` for each key rebuilds the output exactly.
 * Anything else (records, unions, loose objects, optional keys, transforms, non-objects) gives the
 * reason it does not qualify.
 */
export function outputFieldsOf(schema: unknown): OutputFields {
  const def = (schema as ZodInternals | undefined)?._zod?.def;
  if (def?.type !== 'object' || !def.shape) return { reason: `its output schema is not a plain object (${def?.type ?? 'unknown'})` };
  const catchall = def.catchall?._zod?.def?.type;
  if (catchall !== undefined && catchall !== 'never') return { reason: 'its output schema keeps unknown keys' };
  const keys = Object.keys(def.shape);
  if (keys.length === 0) return { reason: 'its output schema has no keys' };
  for (const key of keys) {
    if (!PLAIN_KEY.test(key)) return { reason: `output key "${key}" is not a plain identifier` };
    if (mayBeUndefined(def.shape[key] as ZodInternals)) return { reason: `output key "${key}" may be absent` };
  }
  return { keys };
}

function mayBeUndefined(field: ZodInternals): boolean {
  const type = field._zod?.def?.type;
  if (type === undefined || MAYBE_UNDEFINED.has(type) || field._zod?.optout === 'optional') return true;
  // unions, wrappers and the like: does `undefined` parse to `undefined`?
  const probe = field.safeParse?.(undefined);
  return probe === undefined || (probe.success && probe.data === undefined);
}
