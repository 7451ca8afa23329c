import { type AnyPipeline, type RetryPolicy } from '@baton/core';
import { walkSteps } from '@baton/core/engine';
import type { CompileOptions } from './types.js';

/**
 * The reference design's retry policy of model stages on AWS: throttling, model errors and
 * unavailability, first retry after 2 s, doubling, 5 retries, FULL jitter, 60 s cap.
 */
export const DEFAULT_MODEL_RETRY: RetryPolicy[] = [
  {
    errors: ['ThrottlingException', 'ModelErrorException', 'ServiceUnavailableException'],
    intervalMs: 2000,
    backoffRate: 2,
    maxAttempts: 5,
    jitter: 'FULL',
    maxDelayMs: 60_000,
  },
];

/**
 * The retrier of model stages whose functions share model budgets (`BatonStateMachine`'s
 * `modelBudgets`): a stage Lambda that got no budget before its time ran out fails with
 * `ModelBudgetUnavailable`, and is invoked again after 1 s to 30 s (×1.5, FULL jitter), up to 50
 * times. It comes first and ASL counts each retrier's attempts apart, so waiting for budget spends
 * none of the model retry policy's attempts (`$$.State.RetryCount`, Baton's attempt number, still
 * counts it).
 */
export const MODEL_BUDGET_RETRY: RetryPolicy = {
  errors: ['ModelBudgetUnavailable'],
  intervalMs: 1000,
  backoffRate: 1.5,
  maxAttempts: 50,
  jitter: 'FULL',
  maxDelayMs: 30_000,
};

/** Options of {@link deployedCompileOptions}. */
export interface DeployedShape {
  type: 'STANDARD' | 'EXPRESS';
  /** Execution-level timeout in seconds. @default one day plus the approval gates' timeouts, each as often as its loops may open it (STANDARD), 300 (EXPRESS) */
  timeoutSeconds?: number;
  /** Retry policy of model stages (`usesModel`); `'stage'` keeps each stage's own. @default {@link DEFAULT_MODEL_RETRY} */
  modelRetry?: RetryPolicy[] | 'stage';
  /** The functions share model budgets: model stages get {@link MODEL_BUDGET_RETRY} first (with `'stage'`, before the stage's own policy). @default false */
  modelBudgets?: boolean;
}

/**
 * The compile options of a deployed machine, shared by `BatonStateMachine` and
 * `writeStepFunctionsApp` so the ASL file written next to the app is the one deployed: an
 * execution-level timeout, model stages on the model retry policy. Failed runs reach the
 * dead-letter queue from their status-change event (the deployed dead-letter function), not
 * through the compile option `deadLetter`: a route inside the machine would make the execution fail
 * at the route's own Fail state, which RedriveExecution would restart, and fail again.
 */
export function deployedCompileOptions(pipeline: AnyPipeline, shape: DeployedShape): Pick<CompileOptions, 'timeoutSeconds' | 'stageRetry'> {
  const modelRetry = shape.modelRetry ?? DEFAULT_MODEL_RETRY;
  const modelStages = [...pipeline.stages.values()].filter((s) => s.usesModel);
  const policiesOf = (stage: (typeof modelStages)[number]): RetryPolicy[] | undefined => {
    if (!shape.modelBudgets) return modelRetry === 'stage' ? undefined : modelRetry;
    return [MODEL_BUDGET_RETRY, ...(modelRetry === 'stage' ? (stage.retry ?? []) : modelRetry)];
  };
  return {
    timeoutSeconds: shape.timeoutSeconds ?? (shape.type === 'EXPRESS' ? 300 : 86_400 + approvalTimeouts(pipeline).reduce((a, b) => a + b, 0)),
    stageRetry: Object.fromEntries(modelStages.flatMap((s) => (policiesOf(s) ? [[s.name, policiesOf(s)!]] : []))),
  };
}

/** The timeouts of a pipeline's approval gates, in seconds: a gate inside loops once per iteration it may open. */
export function approvalTimeouts(pipeline: AnyPipeline): number[] {
  const out: number[] = [];
  const iterations = new Map<string, number>();
  walkSteps(pipeline.ir.steps, (s, parents) => {
    if (s.kind === 'loop') iterations.set(s.id, s.maxIterations);
    if (s.kind !== 'approval') return;
    const times = parents.reduce((n, id) => n * (iterations.get(id) ?? 1), 1);
    for (let i = 0; i < times; i++) out.push(s.timeoutSeconds);
  });
  return out;
}
