import { randomBytes } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { StageError } from './errors.js';

/**
 * What a run id may be, on every engine: a letter or digit, then up to 63 letters, digits, `_` or
 * `-`. This is the intersection of Step Functions' execution-name rules (the strictest engine:
 * 1-80 characters, no whitespace, no backtick, none of `< > { } [ ] ? * " # % \ ^ | ~ $ & , ; : /`) with what
 * is safe as a file name, a Redis key part and a Temporal workflow id. `.` is left out: the Step
 * Functions engine names Baton's own redrive executions `<runId>.r<n>`. Distinct ids never map
 * to the same storage, because no engine needs to rewrite one.
 */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The rule of {@link RUN_ID_PATTERN} in words, for error messages and `--help`. */
export const RUN_ID_RULE = '1-64 characters: letters, digits, "_" and "-", starting with a letter or digit';

/**
 * Returns `id` when it is a valid run id; throws `InvalidInput` (not retryable) saying the rule
 * otherwise. Every engine's `start` calls it before anything is written.
 *
 * @example
 * ```ts
 * assertRunId('report-2026-04-01'); // 'report-2026-04-01'
 * assertRunId('../../package');     // throws StageError InvalidInput
 * ```
 */
export function assertRunId(id: string): string {
  if (typeof id === 'string' && RUN_ID_PATTERN.test(id)) return id;
  const shown = typeof id === 'string' ? JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id) : String(id);
  throw new StageError('InvalidInput', `invalid run id ${shown}: a run id is ${RUN_ID_RULE}`, { details: { runId: id, rule: RUN_ID_PATTERN.source } });
}

/**
 * A new random run id that satisfies {@link RUN_ID_PATTERN}: the pipeline name (characters
 * outside the rule become `-`, cut to 40), a UTC timestamp and 32 random bits.
 *
 * @example
 * ```ts
 * newRunId('report-generation'); // 'report-generation-20260401120000-1a2b3c4d'
 * ```
 */
export function newRunId(pipeline: string): string {
  const prefix =
    pipeline
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^[-_]+/, '')
      .slice(0, 40) || 'run';
  return `${prefix}-${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${randomBytes(4).toString('hex')}`;
}

/**
 * The run id of a `start`: the requested one once {@link assertRunId} accepts it, or a new one.
 *
 * @example
 * ```ts
 * const runId = startRunId(startOptions.runId, pipeline.name);
 * ```
 */
export function startRunId(requested: string | undefined, pipeline: string): string {
  return requested === undefined ? newRunId(pipeline) : assertRunId(requested);
}

/**
 * `join(dir, ...parts)` when the result stays inside `dir`; throws `InvalidInput` naming the
 * path otherwise. For every file path built from a name (run ids, blob keys, file names).
 *
 * @example
 * ```ts
 * pathUnder('/state/runs', 'r1.jsonl');      // '/state/runs/r1.jsonl'
 * pathUnder('/state/runs', '../../x.jsonl'); // throws StageError InvalidInput
 * ```
 */
export function pathUnder(dir: string, ...parts: string[]): string {
  const root = resolve(dir);
  const p = resolve(root, ...parts);
  const rel = relative(root, p);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new StageError('InvalidInput', `path "${parts.join('/')}" escapes its directory "${root}"`, { details: { dir: root, path: parts.join('/') } });
  }
  return p;
}
