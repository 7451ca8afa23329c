export { CliError, ENGINE_FACTORIES, engineFactory, type EngineContext, type EngineFactory } from './engines.js';
export { DEFAULT_PIPELINES_MODULE, findPipeline, loadPipelines } from './pipelines.js';
export { createModelFromSpec, parseFaults } from './models.js';
export { createProgress, type ProgressDisplay, type RunCounts } from './progress.js';
export { createCliReviewer, reviewSummary, type CliReviewer, type ReviewMode } from './review.js';
export { copyOutputs, reportKeys, summaryText } from './outputs.js';
export { finishRun, openSession, type GlobalOptions, type Session } from './session.js';
export { createProgram } from './program.js';
