import type { RetryPolicy } from '@baton/core';
import type { Selection, StepIR } from '@baton/core/engine';
import type { StageMeta } from '@baton/core/interpreter';
import type { OutputFields } from './output-fields.js';
import type { AslState, CompileIssue, TaskBinding, WorkflowType } from './types.js';

/** Resolved compiler options and the shared output of one compilation. */
export interface CompileContext {
  type: WorkflowType;
  functionArn: (stage: string) => string;
  reviewFunctionArn: string;
  distributedThreshold: number;
  expectedItems: Record<string, number>;
  approvalHeartbeatSeconds: number | undefined;
  timeoutMarginSeconds: number;
  itemStepPaths: 'indexed' | 'plain';
  lambdaIntegration: 'function-arn' | 'invoke';
  /** Task id → paths of its output that a later map iterates over (kept out of the claim check). */
  mapItems: Map<string, string[]>;
  /** Step ids renamed to keep state names unique (unrolled loop copies) → the id of their step path. */
  stepIds: Map<string, string>;
  /** Unrolled loops enclosing the one being compiled: a nested loop's copies take a longer suffix (`@@2`) so names stay unique. */
  unrollDepth?: number;
  stages: Readonly<Record<string, StageMeta>>;
  /** Stage name → the retry policy replacing that of every task of the stage (`CompileOptions.stageRetry`). */
  stageRetry?: Readonly<Record<string, RetryPolicy[]>>;
  /** Stage name → the keys its output always has (a Task picks them in its ResultSelector), or why not. */
  outputs: ReadonlyMap<string, OutputFields>;
  /**
   * Catch result paths (ASL) holding a raw `{ Error, Cause }` that the first task of the handler
   * block may decode in its Lambda instead of parsing Pass states; the task marks what it took in
   * `decodedErrors`.
   */
  rawErrors: Map<StepIR, RawError[]>;
  decodedErrors: Set<StepIR>;
  /** Map step id → the claim-check threshold of its items' tasks (core's `mapItemClaimCheckThresholds`). */
  itemThresholds: Readonly<Record<string, number>>;
  tasks: Record<string, TaskBinding>;
  issues: CompileIssue[];
}

/** A caught error left raw in the state at `path`, encoded as `encoding` (see `CauseEncoding` in errors.ts). */
export interface RawError {
  path: string;
  encoding: 'lambda' | 'direct';
}

/** Whether ASL path `outer` is `inner` or one of its ancestors. */
export function covers(outer: string, inner: string): boolean {
  return outer === inner || outer === '$' || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
}

/** Where a block is being compiled: which state list, where Baton's `$` lives, how a block ends. */
export interface Scope {
  ctx: CompileContext;
  /** The state list being filled (top level, a branch, or an item processor). */
  states: Record<string, AslState>;
  /**
   * Where Baton's state root lives in the ASL state: `$` normally; inside map items
   * `$.result.output` (indexed step paths: the item state is `{ path, result: { status, output } }`)
   * or `$.output` (plain: `{ status, output }`), so the item result is in the state from the start.
   */
  root: '$' | '$.output' | '$.result.output';
  /**
   * Where the item result `{ status: 'succeeded', output }` lives in an item's ASL state, when it is
   * not the whole state: a step ending the item keeps only it (`OutputPath`).
   */
  itemResult?: string;
  /**
   * Step path prefix (top level and branches), after `$.path` inside map items. Each `*`
   * ({@link ITERATION}) in it is a loop's iteration, filled at run time from `iterations`.
   */
  prefix: string;
  /** Inside a map item: the item's ASL state carries its step path prefix at `$.path`. */
  dynamicPrefix: boolean;
  /**
   * The paths (in this scope's ASL state) of the iteration counters of the loops whose body this
   * is, outermost first: one per `*` in `prefix` (loops with a counter, see `compileLoop`).
   */
  iterations?: string[];
  /** Name of the state that ends the current item successfully (map items only). */
  itemOk?: string;
  /**
   * Name of the state that ends the current block when it is not the block's natural end: a
   * parallel branch inside a map item keeps `{ path, output }` as its state and ends by keeping
   * `$.output` only (see `compileParallel`).
   */
  blockEnd?: string;
  /**
   * Claim-check threshold (bytes) sent to every task of this scope, inside the items of a map whose
   * aggregated result could pass 256 KB (core's `mapItemClaimCheckThresholds`); absent: the Lambda's own.
   */
  claimCheckThreshold?: number;
  /** Name of the state that shapes a caught item failure (maps with a tolerated failure threshold). */
  itemFailed?: string;
}

/** Where control goes after a step: the next state's name, or the end of the block. */
export type Continuation = string | null;

/** `Next` or `End` for a continuation. */
export function transition(next: Continuation): { Next: string } | { End: true } {
  return next === null ? { End: true } : { Next: next };
}

/** Rewrites a Baton data path into the ASL state of the scope (`$.a` → `$.output.a` in items). */
export function rootPath(scope: Scope, path: string): string {
  if (path.startsWith('$$') || scope.root === '$') return path;
  return path === '$' ? scope.root : scope.root + path.slice(1);
}

/** A Baton result path as an ASL `ResultPath` (`undefined` = the whole Baton state). */
export function resultPath(scope: Scope, path: string | null | undefined): string | null {
  if (path === null) return null;
  return rootPath(scope, path ?? '$');
}

/** Appends a field to a path (`$` + `Cause` → `$.Cause`). */
export function child(path: string, field: string): string {
  return path === '$' ? `$.${field}` : `${path}.${field}`;
}

/** Rewrites every `.$` path of a selection template into the scope's ASL state. */
export function rootTemplate(scope: Scope, template: unknown): unknown {
  if (Array.isArray(template)) return template.map((t) => rootTemplate(scope, t));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    out[key] = key.endsWith('.$') && typeof value === 'string' && !value.startsWith('States.') ? rootPath(scope, value) : rootTemplate(scope, value);
  }
  return out;
}

/** A selection as a field of a payload template: `{ "<key>.$": path }` or `{ <key>: template }`. */
export function selectionField(scope: Scope, key: string, selection: Selection | undefined, stepId = key): Record<string, unknown> {
  if (scope.root !== '$' && key !== 'output' && JSON.stringify(selection ?? '').includes('$$.Map.')) {
    scope.ctx.issues.push({
      severity: 'error',
      step: scope.prefix + stepId,
      message: "Step Functions exposes $$.Map.Item.* only in the map's itemSelector: select the item or its index there",
    });
  }
  if (selection === undefined) return { [`${key}.$`]: scope.root };
  if (typeof selection === 'string') return { [`${key}.$`]: rootPath(scope, selection) };
  return { [key]: rootTemplate(scope, selection) };
}

/** Marks a loop iteration in a scope's `prefix` (step ids never contain it). */
export const ITERATION = '*';

/** The step path of a step as a payload field (see {@link pathField}). */
export function stepPathField(scope: Scope, stateName: string): Record<string, string> {
  return pathField(scope, 'stepPath', scope.ctx.stepIds.get(stateName) ?? stateName);
}

/**
 * A step path under the scope (`<prefix><text>`) as a payload field: a static string, or
 * `States.Format` of the item's `$.path`, the iteration counters of the enclosing loops (at each
 * {@link ITERATION} of the prefix) and `tail` (at each {@link ITERATION} of `text`), so every map
 * item and loop iteration has a step path of its own, as in Baton's interpreter.
 */
export function pathField(scope: Scope, key: string, text: string, tail: readonly string[] = []): Record<string, string> {
  const full = scope.prefix + text;
  const args = [...(scope.dynamicPrefix ? ['$.path'] : []), ...(scope.iterations ?? []), ...tail];
  if (args.length === 0) return { [key]: full };
  const format = (scope.dynamicPrefix ? '{}' : '') + full.split(ITERATION).map(escapeFormat).join('{}');
  return { [`${key}.$`]: `States.Format('${format}', ${args.join(', ')})` };
}

/**
 * Adds a state, refusing duplicate names (ASL names are unique in a machine): a duplicate is a
 * compile error (an issue, so `compileToAsl` reports it typed, with the others), the first state
 * of that name is kept.
 */
export function addState(scope: Scope, name: string, state: AslState): string {
  if (name.length > 80) scope.ctx.issues.push({ severity: 'error', step: name, message: `state name "${name}" is longer than ASL's 80 characters` });
  if (scope.states[name])
    scope.ctx.issues.push({ severity: 'error', step: name, message: `duplicate ASL state name "${name}": two steps compile to the same state` });
  else scope.states[name] = state;
  return name;
}

function escapeFormat(s: string): string {
  return s.replace(/[\\'{}]/g, (c) => `\\${c}`);
}
