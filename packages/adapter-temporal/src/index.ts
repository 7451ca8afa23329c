export { WORKER_STOPPED, createBatonActivities, type BatonActivitiesOptions } from './activities.js';
export { batonWorkflowsPath, bundleBatonWorkflow } from './bundle.js';
export { DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE, defaultAddress } from './defaults.js';
export { createTemporalEngine, type TemporalEngine, type TemporalEngineOptions } from './engine.js';
export { failureToError, workflowOutcome } from './outcome.js';
export { routeTemporalLogs, toTemporalLogger } from './logging.js';
export { createTemporalWorker, type TemporalWorker, type TemporalWorkerOptions } from './worker.js';
export { TAKEOVER_DEFAULTS } from './worker-options.js';
export {
  BATON_WORKFLOW_TYPE,
  carryQuery,
  decideUpdate,
  snapshotQuery,
  type ActivityTuning,
  type BatonActivities,
  type BatonRunSnapshot,
  type BatonSinks,
  type BatonWorkflowInput,
  type CarriedState,
  type DecideArgs,
  type OpenReviewRequest,
  type ReviewRecord,
  type RunStageRequest,
  type RunStageResult,
} from './workflow/contract.js';
