import type { AnyPipeline } from '@baton/core';
import { reportPipeline } from './pipeline.js';

/**
 * The report pipeline's stages, exported by name so that the Step Functions app `baton compile`
 * writes gives each stage function an entry that imports only its own stage (a small bundle: the
 * `generate` function does not load the PDF parser of `ingest` or the DOCX writer of `assemble`).
 */
export {
  applyReview,
  assemble,
  checkOutcome,
  flagForReview,
  generate,
  ingest,
  mergeRevisions,
  notify,
  openReview,
  plan,
  repair,
  validate,
} from '@baton/stages';
export { MAX_REPAIR_ROUNDS, MAX_REVIEW_ROUNDS, REVIEW_TIMEOUT_SECONDS, ReportInput, reportPipeline } from './pipeline.js';

/** Every pipeline of this module, for workers of any engine and the `baton` CLI (`--pipelines`). */
export const pipelines: AnyPipeline[] = [reportPipeline];
