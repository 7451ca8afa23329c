import type { AnyPipeline } from './builder.js';
import { DEFAULT_CLAIM_CHECK_THRESHOLD } from './claim-check.js';
import type { EngineLimits } from './engine-limits.js';
import { walkSteps, type MapIR } from './ir.js';

/*
 * The claim-check threshold of map items under a state limit (`EngineLimits.maxStateBytes`),
 * one rule for every engine that has or emulates such a limit: the compiled Step Functions
 * machine sends it in each item task's payload, the local engine with `STEP_FUNCTIONS_LIMITS`
 * (or `emulate: 'stepfunctions'`) hands it to the same tasks, so a map whose aggregate would
 * pass 256 KB on AWS runs, or fails, the same way on both.
 *
 * Why: Step Functions builds a Map state's output from the item results itself and fails it with
 * `States.DataLimitExceeded` over 256 KB, before any Lambda could claim-check the aggregate. So
 * when the aggregate could pass the limit, every task of an item claim-checks its output at a
 * lower threshold (its object keys kept), and what an item keeps over it crosses the state as
 * `{ $blob, bytes, sha256 }` references, which the next stage resolves.
 */

/** Share of the state limit a map's aggregated result may take (the rest of the state travels with it): 192 KB of Step Functions' 256 KB. */
export const MAP_AGGREGATE_SHARE = 0.75;
/** Claim-check threshold of the items of a map whose item count is unknown (a reference is about 200 bytes). */
export const DEFAULT_ITEM_CLAIM_CHECK_THRESHOLD = 1024;
/** The lowest per-item threshold: below it a reference saves little (the claim check moves no field under 512 bytes). */
export const MIN_ITEM_CLAIM_CHECK_THRESHOLD = 512;
/** JSON characters of `{"status":"succeeded","output":…}` around an item's output. */
export const MAP_ITEM_ENVELOPE_CHARS = 34;

/** What {@link mapItemClaimCheckThresholds} decides on besides the pipeline and the limits. */
export interface MapItemThresholdOptions {
  /** Expected item count per map step id (the compiler's `expectedItems`); absent: unknown. */
  expectedItems?: Readonly<Record<string, number>>;
  /** The claim-check threshold the tasks use otherwise. @default DEFAULT_CLAIM_CHECK_THRESHOLD (32 KB) */
  claimCheckThreshold?: number;
  /** Largest JSON of an item result per map step id; absent: {@link mapItemBounds} of the pipeline. */
  itemBounds?: Readonly<Record<string, number>>;
}

/**
 * Per map step id, the claim-check threshold (bytes) the tasks of its items use under `limits`,
 * for the maps whose aggregated result could otherwise pass `MAP_AGGREGATE_SHARE` of
 * `limits.maxStateBytes` (192 KB on Step Functions). With `n` expected items, that budget / `n`
 * less the item envelope (at least {@link MIN_ITEM_CLAIM_CHECK_THRESHOLD}), only when `n` items
 * of their bound (else the claim-check threshold) can pass the budget; with an unknown count,
 * {@link DEFAULT_ITEM_CLAIM_CHECK_THRESHOLD}; never above the claim-check threshold, and never
 * for items whose bound is already below the threshold. Maps whose result is discarded, and every
 * map when `limits` sets no `maxStateBytes`, are absent.
 *
 * @example
 * ```ts
 * mapItemClaimCheckThresholds(report, STEP_FUNCTIONS_LIMITS); // { sections: 1024 }
 * mapItemClaimCheckThresholds(report, STEP_FUNCTIONS_LIMITS, { expectedItems: { sections: 40 } }); // { sections: 4881 }
 * ```
 */
export function mapItemClaimCheckThresholds(pipeline: AnyPipeline, limits: EngineLimits, options: MapItemThresholdOptions = {}): Record<string, number> {
  const out: Record<string, number> = {};
  if (limits.maxStateBytes === undefined) return out;
  const budget = Math.floor(limits.maxStateBytes * MAP_AGGREGATE_SHARE);
  const claimCheckThreshold = options.claimCheckThreshold ?? DEFAULT_CLAIM_CHECK_THRESHOLD;
  const bounds = options.itemBounds ?? mapItemBounds(pipeline);
  const expected = options.expectedItems ?? {};
  walkSteps(pipeline.ir.steps, (step) => {
    if (step.kind !== 'map' || step.resultPath === null) return;
    // an item result is at most its bound, and never much more than the claim check leaves
    const perItem = Math.min(bounds[step.id] ?? Infinity, claimCheckThreshold + 64);
    const n = expected[step.id];
    if (n !== undefined && n * perItem <= budget) return;
    const lowered = Math.min(
      claimCheckThreshold,
      n === undefined ? DEFAULT_ITEM_CLAIM_CHECK_THRESHOLD : Math.max(MIN_ITEM_CLAIM_CHECK_THRESHOLD, Math.floor(budget / n) - MAP_ITEM_ENVELOPE_CHARS),
    );
    // items that can never reach the threshold gain nothing from it
    if (perItem > lowered) out[step.id] = lowered;
  });
  return out;
}

/**
 * Per map step id, the largest JSON an item's result can take, from the schemas, when the item's
 * last step is a task that replaces the item state (so the item result is `{ status, output }`
 * around that stage's output), the stage's output schema bounds it, and the map declares no
 * tolerance (a tolerated failure leaves its error, which no schema bounds, in the result; without
 * tolerance a failure fails the map). Other maps are absent: their items are estimated by the
 * claim-check threshold.
 */
export function mapItemBounds(pipeline: AnyPipeline): Record<string, number> {
  const bounds: Record<string, number> = {};
  walkSteps(pipeline.ir.steps, (step) => {
    if (step.kind !== 'map') return;
    const size = itemBound(pipeline, step);
    if (size !== undefined) bounds[step.id] = size;
  });
  return bounds;
}

function itemBound(pipeline: AnyPipeline, map: MapIR): number | undefined {
  if (map.toleratedFailureCount !== undefined || map.toleratedFailurePercentage !== undefined) return undefined;
  const last = map.steps[map.steps.length - 1];
  if (last?.kind !== 'task' || (last.resultPath !== undefined && last.resultPath !== '$') || last.catch?.length) return undefined;
  const size = maxJsonChars(pipeline.stages.get(last.stage)?.output);
  return size === undefined ? undefined : size + MAP_ITEM_ENVELOPE_CHARS;
}

interface ZodDef {
  type: string;
  shape?: Record<string, { _zod: { def: ZodDef } }>;
  catchall?: { _zod: { def: ZodDef } };
  element?: { _zod: { def: ZodDef } };
  innerType?: { _zod: { def: ZodDef } };
  options?: { _zod: { def: ZodDef } }[];
  entries?: Record<string, unknown>;
  values?: unknown[];
  checks?: { _zod: { def: { check: string; maximum?: number; length?: number } } }[];
}

/** JSON characters of the longest number (`-1.7976931348623157e+308`). */
const NUMBER_CHARS = 24;
/** Characters one string character can take in JSON (`\u0000`). */
const ESCAPED_CHARS = 6;

/**
 * The largest JSON form a zod schema admits, in characters, or `undefined` when the schema does
 * not bound it (a string or array without a maximum, a record, a loose object, a transform).
 */
export function maxJsonChars(schema: unknown): number | undefined {
  const def = (schema as { _zod?: { def?: ZodDef } } | undefined)?._zod?.def;
  return def ? ofDef(def) : undefined;
}

function ofDef(def: ZodDef): number | undefined {
  switch (def.type) {
    case 'number':
    case 'bigint':
      return NUMBER_CHARS;
    case 'boolean':
      return 5;
    case 'null':
    case 'undefined':
      return 4;
    case 'literal':
      return Math.max(...(def.values ?? []).map((v) => JSON.stringify(v)?.length ?? 4));
    case 'enum':
      return Math.max(...Object.values(def.entries ?? {}).map((v) => JSON.stringify(v)?.length ?? 4));
    case 'string': {
      const max = maxOf(def);
      return max === undefined ? undefined : 2 + max * ESCAPED_CHARS;
    }
    case 'array': {
      const max = maxOf(def);
      const item = def.element ? ofDef(def.element._zod.def) : undefined;
      return max === undefined || item === undefined ? undefined : 2 + max * (item + 1);
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional': {
      const inner = def.innerType ? ofDef(def.innerType._zod.def) : undefined;
      return inner === undefined ? undefined : Math.max(inner, 4);
    }
    case 'union': {
      const sizes = (def.options ?? []).map((o) => ofDef(o._zod.def));
      return sizes.length > 0 && sizes.every((s) => s !== undefined) ? Math.max(...(sizes as number[])) : undefined;
    }
    case 'object': {
      const catchall = def.catchall?._zod.def.type;
      if (catchall !== undefined && catchall !== 'never') return undefined;
      let total = 2;
      for (const [key, field] of Object.entries(def.shape ?? {})) {
        const size = ofDef(field._zod.def);
        if (size === undefined) return undefined;
        total += JSON.stringify(key).length + 2 + size;
      }
      return total;
    }
    default:
      return undefined;
  }
}

function maxOf(def: ZodDef): number | undefined {
  let max: number | undefined;
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    const bound = d.check === 'max_length' ? d.maximum : d.check === 'length_equals' ? d.length : undefined;
    if (bound !== undefined) max = Math.min(max ?? bound, bound);
  }
  return max;
}
