import { StageError } from './errors.js';

/**
 * A path into the run state, in the JSONPath subset that ASL accepts for `InputPath`,
 * `ItemsPath` and `ResultPath`: `$`, `$.a.b`, `$.items[2].title`. Paths starting with `$$.`
 * read the context object (`$$.Map.Item.Value` and `$$.Map.Item.Index` in a map's `itemSelector`,
 * `$$.Execution.Name` for the run id; `$$.Execution.Id` is the run id locally and the execution ARN on Step Functions).
 */
export type DataPath = `$${string}`;

/**
 * A declarative selection of a step's input from the run state, like ASL `Parameters`:
 * a path, or a JSON template whose keys ending in `.$` take the value at a path.
 *
 * @example
 * ```ts
 * const sel: Selection = { 'sections.$': '$.plan.sections', style: 'formal' };
 * ```
 */
export type Selection = DataPath | { [key: string]: unknown };

/** What context paths (`$$.…`) resolve against. */
export interface PathContext {
  Execution?: { Id: string; Name?: string };
  Map?: { Item: { Index: number; Value: unknown } };
}

/** One step of a parsed path: a key or an array index. */
export type Segment = string | number;

const cache = new Map<string, Segment[]>();

/** Parses a path into segments, or throws `States.Runtime` naming what is wrong with it. */
export function parsePath(path: string): Segment[] {
  const hit = cache.get(path);
  if (hit) return hit;
  const body = path.startsWith('$$') ? path.slice(2) : path.startsWith('$') ? path.slice(1) : null;
  if (body === null) throw pathError(path, 'a path must start with "$"');
  const segments: Segment[] = [];
  const re = /\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']+)'\]/y;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (!m) throw pathError(path, `unexpected "${body.slice(pos)}"`);
    segments.push(m[1] ?? (m[2] !== undefined ? Number(m[2]) : m[3]!));
    pos = re.lastIndex;
  }
  cache.set(path, segments);
  return segments;
}

/** Whether `path` is syntactically valid. */
export function isValidPath(path: string): boolean {
  try {
    parsePath(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads the value at `path`; throws `States.Runtime` if any segment does not resolve. */
export function readPath(state: unknown, path: string, context: PathContext = {}): unknown {
  const segments = parsePath(path);
  let value: unknown = path.startsWith('$$') ? context : state;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (value === null || typeof value !== 'object' || !(seg in (value as object))) {
      const at = '$' + segments.slice(0, i).map(show).join('');
      throw pathError(path, `nothing at "${show(seg)}" under ${at}`, { missing: show(seg), at });
    }
    value = (value as Record<string | number, unknown>)[seg];
  }
  return value;
}

/** Whether `path` resolves in `state` (for `present` predicates). */
export function hasPath(state: unknown, path: string, context: PathContext = {}): boolean {
  try {
    readPath(state, path, context);
    return true;
  } catch {
    return false;
  }
}

/** Applies a {@link Selection} to the state: a path read, or a template with `.$` keys filled in. */
export function select(state: unknown, selection: Selection | undefined, context: PathContext = {}): unknown {
  if (selection === undefined) return state;
  if (typeof selection === 'string') return readPath(state, selection, context);
  return fillTemplate(state, selection, context);
}

function fillTemplate(state: unknown, template: unknown, context: PathContext): unknown {
  if (Array.isArray(template)) return template.map((t) => fillTemplate(state, t, context));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) {
      if (typeof value !== 'string') throw pathError(String(value), `the value of "${key}" must be a path string`);
      out[key.slice(0, -2)] = readPath(state, value, context);
    } else {
      out[key] = fillTemplate(state, value, context);
    }
  }
  return out;
}

/**
 * Writes `value` at `resultPath` in a copy of `state` (ASL `ResultPath`): `$` replaces the
 * state, `null` discards the value, `$.a.b` creates the objects on the way.
 */
export function writePath(state: unknown, resultPath: string | null | undefined, value: unknown): unknown {
  if (resultPath === null) return state;
  if (resultPath === undefined || resultPath === '$') return value;
  if (resultPath.startsWith('$$')) throw pathError(resultPath, 'a result path cannot write the context object');
  const segments = parsePath(resultPath);
  const root: Record<string | number, unknown> =
    state !== null && typeof state === 'object' ? (Array.isArray(state) ? ([...state] as unknown as Record<number, unknown>) : { ...state }) : {};
  let cursor = root;
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i]!;
    const next = cursor[seg];
    const copy: Record<string | number, unknown> =
      next !== null && typeof next === 'object' ? (Array.isArray(next) ? ([...next] as unknown as Record<number, unknown>) : { ...next }) : {};
    cursor[seg] = copy;
    cursor = copy;
  }
  cursor[segments[segments.length - 1]!] = value;
  return root;
}

/** The paths a selection reads (for validation). */
export function selectionPaths(selection: Selection | undefined): string[] {
  if (selection === undefined) return [];
  if (typeof selection === 'string') return [selection];
  const out: string[] = [];
  const walk = (t: unknown): void => {
    if (Array.isArray(t)) t.forEach(walk);
    else if (t !== null && typeof t === 'object') {
      for (const [k, v] of Object.entries(t)) {
        if (k.endsWith('.$') && typeof v === 'string') out.push(v);
        else walk(v);
      }
    }
  };
  walk(selection);
  return out;
}

function show(seg: Segment): string {
  return typeof seg === 'number' ? `[${seg}]` : `.${seg}`;
}

function pathError(path: string, reason: string, details: Record<string, unknown> = {}): StageError {
  return new StageError('States.Runtime', `path ${path}: ${reason}`, { details: { path, ...details } });
}
