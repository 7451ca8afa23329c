import type { EngineFactory } from './context.js';
import { commonOptions } from './context.js';

/**
 * The pipelines' compiled ASL on aws-local-stepfunctions, stage handlers bound in-process. It
 * keeps executions in memory: a run lives as long as the CLI process (use `--auto-approve` or the
 * terminal prompt at review gates; `baton resume` cannot continue it).
 */
export const stepfunctionsLocalEngineFactory: EngineFactory = async (ctx) => {
  const { createStepFunctionsLocalEngine } = await import('@baton/adapter-stepfunctions');
  return createStepFunctionsLocalEngine({
    pipelines: ctx.pipelines,
    blobs: ctx.blobs,
    model: ctx.model,
    enforcePayloadLimit: true,
    ...commonOptions(ctx),
  });
};
