/** Names of the queues the engine uses, under its prefix. */
export const QUEUES = {
  /** Driver jobs: replay a run's interpreter against its journal and schedule what comes next. */
  drive: 'drive',
  /** Task jobs: one attempt of one stage. */
  task: 'task',
} as const;

/** The Redis keys of one run. The run id is a hash tag, so a run's keys share a cluster slot. */
export interface RunKeys {
  /** List of JSON journal entries (core's `JournalEntry`), append-only. */
  journal: string;
  /** Hash of idempotency fields: each journal write happens once per field. */
  once: string;
  /** Hash of attempts in flight: `path#attempt` → JSON. */
  running: string;
  /** The run's end entry (JSON) while the run is ended. */
  end: string;
  /** Hash of task claims run inline by a worker after the task before them: claim → task job id that carries them. */
  inline: string;
  /** Hash of task jobs claimed on the public enqueue path and not yet added: job id → JSON (`PendingJob`). */
  pending: string;
}

/** Keys of a run. */
export function runKeys(prefix: string, runId: string): RunKeys {
  const base = `${prefix}:run:{${runId}}`;
  return { journal: `${base}:j`, once: `${base}:once`, running: `${base}:running`, end: `${base}:end`, inline: `${base}:inline`, pending: `${base}:pending` };
}

/** Sorted set of run ids by start time. */
export const runsIndexKey = (prefix: string): string => `${prefix}:runs`;
/** Set of the ids of runs that have not ended (what a starting worker resumes). */
export const activeRunsKey = (prefix: string): string => `${prefix}:runs:active`;
/** Pub/sub channel announcing ended runs (message: run id). */
export const endedChannel = (prefix: string): string => `${prefix}:ended`;
/** Pub/sub channel relaying review notices (with their token) to engines that have a notifier; never stored. */
export const reviewsChannel = (prefix: string): string => `${prefix}:reviews`;

/** A BullMQ job id from parts (BullMQ refuses `:` in custom ids). */
export function jobId(...parts: (string | number)[]): string {
  return parts.map((p) => String(p).replace(/:/g, ';')).join('|');
}
