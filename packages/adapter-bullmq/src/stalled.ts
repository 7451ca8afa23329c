import { Job, Queue, QueueEvents } from 'bullmq';
import type { Logger } from '@baton/core';
import type { TaskJobData } from './enqueue.js';
import { QUEUES } from './keys.js';
import { bullmqConnectionOf, type RedisConnection } from './options.js';

/** Steps of a run that BullMQ has just taken back from a worker that stopped (killed, hung, lost). */
export interface RecoveringSteps {
  runId: string;
  /** Step paths of the job's tasks, in job order. */
  stepPaths: string[];
}

/** Listens for stalled task jobs of a prefix; {@link StalledWatcher.close} stops it. */
export interface StalledWatcher {
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Calls `onRecovering` for each task job that BullMQ's stalled-job check moves back to the queue:
 * its worker stopped renewing the job's lock (SIGKILL, a frozen process, a lost connection), so
 * another worker is about to run those steps again. The check runs in the workers every
 * `stalledIntervalMs`; this only listens to its events (one Redis connection).
 */
export function watchStalledTasks(connection: RedisConnection, prefix: string, onRecovering: (steps: RecoveringSteps) => void, logger: Logger): StalledWatcher {
  const options = { connection: bullmqConnectionOf(connection), prefix };
  const events = new QueueEvents(QUEUES.task, options);
  const queue = new Queue<TaskJobData>(QUEUES.task, options);
  events.on('error', (e: Error) => logger.warn('stalled-job listener error', { error: e.message }));
  queue.on('error', (e: Error) => logger.warn('queue error', { queue: queue.name, error: e.message }));
  events.on('stalled', ({ jobId }) => {
    void Job.fromId<TaskJobData>(queue, jobId)
      .then((job) => {
        const byRun = new Map<string, string[]>();
        for (const t of job?.data.tasks ?? []) byRun.set(t.runId, [...(byRun.get(t.runId) ?? []), t.stepPath]);
        for (const [runId, stepPaths] of byRun) onRecovering({ runId, stepPaths });
      })
      .catch((e: unknown) => logger.warn('cannot read a stalled job', { jobId, error: (e as Error).message }));
  });
  return {
    ready: Promise.all([events.waitUntilReady(), queue.waitUntilReady()]).then(() => undefined),
    async close() {
      await Promise.allSettled([events.close(), queue.close()]);
    },
  };
}
