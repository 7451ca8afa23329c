import type { AnyPipeline } from '@baton/core';
import { reportPipeline } from '@baton/example-report';

/**
 * The reference report with a strict sections map: a section that fails fails the run. (The
 * reference report tolerates every failed section and assembles a placeholder for it, so a model
 * outage alone never fails one of its runs.) Same stages, same state machine name.
 */
export const strictReportPipeline: AnyPipeline = {
  ...reportPipeline,
  ir: {
    ...reportPipeline.ir,
    steps: reportPipeline.ir.steps.map((step) => {
      if (step.id !== 'sections') return step;
      const { toleratedFailurePercentage: _tolerated, ...strict } = step as typeof step & { toleratedFailurePercentage?: number };
      return strict;
    }),
  },
};
