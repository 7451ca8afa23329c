import type { AnyPipeline } from '@baton/core';
import { reportPipeline } from './pipeline.js';

export { MAX_REPAIR_ROUNDS, MAX_REVIEW_ROUNDS, REVIEW_TIMEOUT_SECONDS, ReportInput, reportPipeline } from './pipeline.js';

/** Every pipeline of this module, for workers of any engine and the `baton` CLI (`--pipelines`). */
export const pipelines: AnyPipeline[] = [reportPipeline];
