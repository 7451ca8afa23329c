import { SfnApiError } from './errors.js';

/** The fields of an ASL retrier this endpoint reads. */
export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}

/** What the endpoint needs of one Task state (names are unique in a whole machine, Map and Parallel included). */
export interface TaskInfo {
  name: string;
  resource: string;
  retry: Retrier[];
  /** The definition's TimeoutSeconds (not set: AWS's default of 99999999 s, capped here). */
  timeoutSeconds: number;
  /** Set when TimeoutSecondsPath decides the timeout (evaluated by the interpreter only). */
  timeoutFromPath: boolean;
  heartbeatSeconds?: number;
}

/** A parsed definition, ready for aws-local-stepfunctions. */
export interface PreparedDefinition {
  /** The copy the interpreter runs: Task states without a timeout get the longest one a timer can hold. */
  definition: Record<string, unknown>;
  tasks: Map<string, TaskInfo>;
  /** Every state's type and raw definition, by name. */
  states: Map<string, Record<string, unknown>>;
}

/** Longest timer Node can hold (2^31-1 ms), in whole seconds: stands in for AWS's 99999999 s default Task timeout. */
export const MAX_TIMEOUT_SECONDS = 2_147_483;

/**
 * Parses a state machine definition and indexes its states, Map iterators and Parallel branches
 * included. Throws `InvalidDefinition` for what is not JSON or not an ASL machine.
 */
export function prepareDefinition(text: string): PreparedDefinition {
  let definition: Record<string, unknown>;
  try {
    definition = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new SfnApiError('InvalidDefinition', `Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ${(e as Error).message}'`);
  }
  if (!definition || typeof definition !== 'object' || typeof definition.StartAt !== 'string' || !definition.States || typeof definition.States !== 'object') {
    throw new SfnApiError('InvalidDefinition', "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: StartAt and States are required'");
  }
  // Node fires a timer over 2^31-1 ms at once: a longer execution timeout (a deployed machine's
  // one day plus its review rounds) is held at the longest one Node can wait
  const copy = structuredClone(definition);
  if (typeof copy.TimeoutSeconds === 'number') copy.TimeoutSeconds = Math.min(copy.TimeoutSeconds, MAX_TIMEOUT_SECONDS);
  const tasks = new Map<string, TaskInfo>();
  const states = new Map<string, Record<string, unknown>>();
  walk(copy, (name, state) => {
    if (states.has(name)) throw new SfnApiError('InvalidDefinition', `Invalid State Machine Definition: 'DUPLICATE_STATE_NAME: Duplicate State name: ${name}'`);
    states.set(name, state);
    if (state.Type !== 'Task') return;
    const fromPath = state.TimeoutSecondsPath !== undefined;
    const timeoutSeconds = Math.min(typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : MAX_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS);
    if (!fromPath) state.TimeoutSeconds = timeoutSeconds;
    tasks.set(name, {
      name,
      resource: String(state.Resource ?? ''),
      retry: (state.Retry as Retrier[] | undefined) ?? [],
      timeoutSeconds,
      timeoutFromPath: fromPath,
      ...(typeof state.HeartbeatSeconds === 'number' ? { heartbeatSeconds: state.HeartbeatSeconds } : {}),
    });
  });
  return { definition: copy, tasks, states };
}

function walk(machine: Record<string, unknown>, visit: (name: string, state: Record<string, unknown>) => void): void {
  for (const [name, state] of Object.entries(machine.States as Record<string, Record<string, unknown>>)) {
    visit(name, state);
    const inner = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
    if (inner?.States) walk(inner, visit);
    for (const branch of (state.Branches as Record<string, unknown>[] | undefined) ?? []) walk(branch, visit);
  }
}

/**
 * Reads a reference path of the simple kind (`$`, `$.a.b`, `$['a'][0]`); `undefined` for what
 * it cannot read. Used for details the interpreter does not report (a Map's item count).
 */
export function readSimplePath(value: unknown, path: string | undefined): { ok: true; value: unknown } | { ok: false } {
  if (path === undefined || path === '$') return { ok: true, value };
  if (!path.startsWith('$')) return { ok: false };
  let at: unknown = value;
  const steps = /\.([A-Za-z_][\w-]*)|\['([^']*)'\]|\[(\d+)\]/gy;
  steps.lastIndex = 1;
  let m: RegExpExecArray | null;
  while (steps.lastIndex < path.length) {
    if (!(m = steps.exec(path))) return { ok: false };
    const key = m[1] ?? m[2] ?? Number(m[3]);
    if (at === null || typeof at !== 'object') return { ok: false };
    at = (at as Record<string | number, unknown>)[key];
  }
  return { ok: true, value: at };
}
