export {
  CliError,
  ENGINE_FACTORIES,
  WORKER_FACTORIES,
  engineFactory,
  workerFactory,
  type CliWorker,
  type EngineConnection,
  type EngineContext,
  type EngineFactory,
  type WorkerFactory,
} from './engines.js';
export { DEFAULT_REDIS_URL } from './engines/bullmq.js';
export { assertReachable } from './engines/reach.js';
export { DEFAULT_PIPELINES_MODULE, exportNameOf, findPipeline, loadPipelines } from './pipelines.js';
export { createModelFromSpec, parseFaults } from './models.js';
export { createProgress, type ProgressDisplay, type RunCounts } from './progress.js';
export { createCliReviewer, reviewSummary, type CliReviewer, type ReviewMode } from './review.js';
export { copyOutputs, reportKeys, summaryText } from './outputs.js';
export { openContext, type CliContext, type GlobalOptions } from './context.js';
export { openSession, type Session } from './session.js';
export { finishRun, runsStepsHere } from './finish.js';
export { RUN_EXIT_CODES, WORKER_EXIT_CODES, missingSections, runExitCode } from './exit-codes.js';
export { configuredNotifier, readNotices, type NoticeLine } from './notifier.js';
export { createSpooledRegistry, createSpoolObserver, ingestSpool, spoolDir } from './registry/spool.js';
export { createRunRecorder, openRegistry, type OpenRegistry, type RunRecorder } from './registry/open.js';
export { createProgram } from './program.js';
