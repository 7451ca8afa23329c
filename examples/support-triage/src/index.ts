import type { AnyPipeline } from '@baton/core';
import { triagePipeline } from './pipeline.js';

export { triagePipeline } from './pipeline.js';
export { Classification, Ticket, classify, draftReply, escalate } from './stages.js';

/** Every pipeline of this module, for workers of any engine and the `baton` CLI (`--pipelines`). */
export const pipelines: AnyPipeline[] = [triagePipeline];
