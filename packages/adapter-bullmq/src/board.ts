import { Queue } from 'bullmq';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { QUEUES } from './keys.js';
import { DEFAULT_PREFIX, bullmqConnectionOf, type BullmqConnectionOptions } from './options.js';

/** Options of {@link createBullBoardQueues}. */
export interface BullBoardQueuesOptions extends BullmqConnectionOptions {
  /** Hide retry/clean/promote buttons. @default true: jobs are the engine's, edit runs through Baton */
  readOnly?: boolean;
}

/** The engine's queues, ready for `createBullBoard({ queues })`. */
export interface BullBoardQueues {
  /** bull-board adapters of the driver and task queues. */
  readonly queues: BullMQAdapter[];
  /** Closes the queue connections. */
  close(): Promise<void>;
}

/**
 * The BullMQ engine's queues as bull-board adapters, to mount a dashboard with any bull-board
 * server adapter (`@bull-board/express`, `@bull-board/hono`, ...).
 *
 * @example
 * ```ts
 * const { queues } = createBullBoardQueues({ connection: 'redis://127.0.0.1:6379' });
 * const serverAdapter = new ExpressAdapter().setBasePath('/queues');
 * createBullBoard({ queues, serverAdapter });
 * app.use('/queues', serverAdapter.getRouter());
 * ```
 */
export function createBullBoardQueues(options: BullBoardQueuesOptions): BullBoardQueues {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const connection = bullmqConnectionOf(options.connection);
  const raw = [QUEUES.drive, QUEUES.task].map((name) => new Queue(name, { connection, prefix }));
  for (const q of raw) q.on('error', () => undefined);
  const readOnlyMode = options.readOnly ?? true;
  return {
    queues: raw.map((q) => new BullMQAdapter(q, { readOnlyMode, displayName: `${prefix}:${q.name}`, description: `Baton ${q.name} jobs (${prefix})` })),
    async close() {
      await Promise.all(raw.map((q) => q.close()));
    },
  };
}
