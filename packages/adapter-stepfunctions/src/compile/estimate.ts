import type { AnyPipeline } from '@baton/core';
import type { MapIR, StepIR } from '@baton/core/engine';

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

/**
 * Per map step id, the largest JSON an item's result can take, from the schemas, when the item's
 * last step is a task that replaces the item state (so the item result is `{ status, output }`
 * around that stage's output), the stage's output schema bounds it, and the map tolerates no
 * failure (a failed item's error is unbounded; without tolerance it fails the map). Other maps are absent:
 * their items are estimated by the claim-check threshold.
 */
export function mapItemBounds(pipeline: AnyPipeline): Record<string, number> {
  const bounds: Record<string, number> = {};
  const visit = (steps: readonly StepIR[]): void => {
    for (const step of steps) {
      if (step.kind === 'map') {
        const size = itemBound(pipeline, step);
        if (size !== undefined) bounds[step.id] = size;
      }
      for (const nested of nestedBlocks(step)) visit(nested);
    }
  };
  visit(pipeline.ir.steps);
  return bounds;
}

/** `{"status":"succeeded","output":…}` around the output. */
const ITEM_ENVELOPE_CHARS = 34;

function itemBound(pipeline: AnyPipeline, map: MapIR): number | undefined {
  // a tolerated failure leaves its error in the result, and no schema bounds an error's message
  if (map.toleratedFailureCount !== undefined || map.toleratedFailurePercentage !== undefined) return undefined;
  const last = map.steps[map.steps.length - 1];
  if (last?.kind !== 'task' || (last.resultPath !== undefined && last.resultPath !== '$') || last.catch?.length) return undefined;
  const size = maxJsonChars(pipeline.stages.get(last.stage)?.output);
  return size === undefined ? undefined : size + ITEM_ENVELOPE_CHARS;
}

function nestedBlocks(step: StepIR): (readonly StepIR[])[] {
  const blocks: (readonly StepIR[])[] = [];
  if ('steps' in step && Array.isArray(step.steps)) blocks.push(step.steps);
  if (step.kind === 'parallel') blocks.push(...step.branches);
  if (step.kind === 'choice') blocks.push(...step.branches.map((b) => b.steps), ...(step.otherwise ? [step.otherwise] : []));
  if ('catch' in step) blocks.push(...(step.catch ?? []).map((c) => c.steps));
  return blocks;
}

/** Share of the 256 KB state a map's aggregated result may take (the rest of the state travels with it). */
export const MAP_AGGREGATE_BUDGET = 192 * 1024;
/** Claim-check threshold of the items of a map whose item count is unknown (a reference is about 200 bytes). */
export const DEFAULT_ITEM_THRESHOLD = 1024;
/** The lowest per-item threshold: below it a reference saves little (core moves no field under 512 bytes). */
const MIN_ITEM_THRESHOLD = 512;

/**
 * Per map step id, the claim-check threshold (bytes) the tasks of its items use, for the maps
 * whose aggregated result could otherwise pass Step Functions' 256 KB: the Map state's output is
 * built by the service from the item results, before any Lambda could claim-check it as a whole
 * (it fails `States.DataLimitExceeded`). With `n` expected items, `MAP_AGGREGATE_BUDGET / n`
 * (at least 512 bytes), only when `n` items of `itemBounds` (else the claim-check threshold) can
 * pass the budget; with an unknown count, {@link DEFAULT_ITEM_THRESHOLD}; never for items whose
 * bound is already below the threshold. An item output over its threshold then crosses the state as references
 * (`{ $blob, bytes, sha256 }`), which the next stage's `invokeStage` resolves. Maps whose result
 * is discarded are absent.
 */
export function mapItemThresholds(
  pipeline: AnyPipeline,
  expectedItems: Readonly<Record<string, number>>,
  itemBounds: Readonly<Record<string, number>>,
  claimCheckThreshold: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  const visit = (steps: readonly StepIR[]): void => {
    for (const step of steps) {
      if (step.kind === 'map' && step.resultPath !== null) {
        const perItem = Math.min(itemBounds[step.id] ?? Infinity, claimCheckThreshold + 64);
        const n = expectedItems[step.id];
        if (n === undefined || n * perItem > MAP_AGGREGATE_BUDGET) {
          const threshold = Math.min(
            claimCheckThreshold,
            n === undefined ? DEFAULT_ITEM_THRESHOLD : Math.max(MIN_ITEM_THRESHOLD, Math.floor(MAP_AGGREGATE_BUDGET / n) - ITEM_ENVELOPE_CHARS),
          );
          // items that can never reach the threshold gain nothing from it
          if (perItem > threshold) out[step.id] = threshold;
        }
      }
      for (const nested of nestedBlocks(step)) visit(nested);
    }
  };
  visit(pipeline.ir.steps);
  return out;
}
