export { createBullmqEngine, type BullmqEngine, type BullmqEngineOptions } from './engine.js';
export {
  DEFAULT_LOCK_DURATION_MS,
  DEFAULT_STALLED_INTERVAL_MS,
  createBullmqWorker,
  type BullmqWorker,
  type BullmqWorkerOptions,
  type BullmqWorkerTuning,
} from './worker.js';
export { DEFAULT_PREFIX, type BullmqConnectionOptions, type RedisConnection } from './options.js';
export { QUEUES } from './keys.js';
export { watchStalledTasks, type RecoveringSteps, type StalledWatcher } from './stalled.js';
export { createBullBoardQueues, type BullBoardQueues, type BullBoardQueuesOptions } from './board.js';
export { DEFAULT_TASK_BATCH_SIZE, type EnqueuePath, type TaskJobData } from './enqueue.js';
export type { TaskOrder } from './replay.js';
export { createRedisModelLimiter, type RedisModelLimiter, type RedisModelLimiterOptions } from './model-limiter.js';
