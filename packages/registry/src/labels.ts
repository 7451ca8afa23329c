import { type DataPath } from '@baton/core';
import { parsePath, readPath } from '@baton/core/engine';

/**
 * Where the registry finds a run's labels in its input: the report a run produces and the
 * reviewer it is assigned to. `null` turns a label off.
 *
 * @example
 * ```ts
 * const registry = await createPgliteRegistry({ labels: { reportId: '$.report.id', reviewerId: null } });
 * ```
 */
export interface RunLabelPaths {
  /** The run input's report id. @default '$.reportId' */
  reportId?: DataPath | null;
  /** The run input's reviewer id. @default '$.reviewerId' */
  reviewerId?: DataPath | null;
  /** The run input's title for people (the runs list shows it). @default '$.reportTitle' */
  title?: DataPath | null;
}

/** The labels of one run, as stored in `pipeline_run.report_id`, `reviewer_id` and `title`. */
export interface RunLabels {
  reportId: string | null;
  reviewerId: string | null;
  title: string | null;
}

/** Reads a run's labels from its input. */
export type LabelReader = (input: unknown) => RunLabels;

/** The input paths used when {@link RunLabelPaths} leaves a label unset. */
export const DEFAULT_LABEL_PATHS = { reportId: '$.reportId', reviewerId: '$.reviewerId', title: '$.reportTitle' } as const satisfies Required<RunLabelPaths>;

/**
 * Checks the label paths once (a bad path fails registry creation, not every run) and returns
 * the reader. A value that is not a non-empty string, or a path that does not resolve, is no label.
 */
export function labelReader(paths: RunLabelPaths = {}): LabelReader {
  const reportId = checked('reportId', paths.reportId === undefined ? DEFAULT_LABEL_PATHS.reportId : paths.reportId);
  const reviewerId = checked('reviewerId', paths.reviewerId === undefined ? DEFAULT_LABEL_PATHS.reviewerId : paths.reviewerId);
  const title = checked('title', paths.title === undefined ? DEFAULT_LABEL_PATHS.title : paths.title);
  return (input) => ({ reportId: labelAt(input, reportId), reviewerId: labelAt(input, reviewerId), title: labelAt(input, title) });
}

function checked(name: string, path: DataPath | null): DataPath | null {
  if (path === null) return null;
  // a run input has no context object: `$$.` paths would never resolve
  if (path.startsWith('$$')) throw new Error(`registry label ${name}: "${path}" reads the context object; give a path into the run input ("$.…")`);
  try {
    parsePath(path);
  } catch (e) {
    throw new Error(`registry label ${name}: ${(e as Error).message}`, { cause: e });
  }
  return path;
}

function labelAt(input: unknown, path: DataPath | null): string | null {
  if (path === null || input === null || typeof input !== 'object') return null;
  let value: unknown;
  try {
    value = readPath(input, path);
  } catch {
    return null;
  }
  return typeof value === 'string' && value.length > 0 ? value : null;
}
