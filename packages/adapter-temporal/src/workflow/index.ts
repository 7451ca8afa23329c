import { ApplicationFailure, allHandlersFinished, condition, continueAsNew, proxySinks, setHandler, workflowInfo } from '@temporalio/workflow';
import { interpret, sectionVerdictsOf, type RunOutcome } from '@baton/core/interpreter';
import { carryQuery, decideUpdate, snapshotQuery, type BatonSinks, type BatonWorkflowInput } from './contract.js';
import { createWorkflowEffects } from './effects.js';
import { WorkflowRunState, trimAttempts } from './run-state.js';

const { baton } = proxySinks<BatonSinks>();

/** Carried state above this (JSON characters) would not fit continue-as-new's 2 MB input payload. */
const MAX_CARRY_BYTES = 1_500_000;

/**
 * The one generic Baton workflow: interprets a pipeline's IR with core's interpreter. The run
 * succeeds with the pipeline's output or fails with an `ApplicationFailure` whose type is the
 * Baton error code and whose first detail is the serialized error. Long runs continue as new,
 * carrying completed outputs, timers and reviews, so no history grows past its limits.
 */
export async function batonWorkflow(input: BatonWorkflowInput): Promise<unknown> {
  const state = new WorkflowRunState(input);
  const { runId } = input;
  const at = (): string => new Date().toISOString();

  setHandler(snapshotQuery, () => state.snapshot());
  setHandler(carryQuery, () => {
    const { carry: _carried, ...fresh } = input;
    return { input: fresh, carry: state.carry };
  });
  setHandler(
    decideUpdate,
    (args) => {
      const review = state.findReview(args);
      const sections = sectionVerdictsOf(args);
      const outcome = {
        decision: args.verdict,
        decidedAt: at(),
        ...(args.reviewer === undefined ? {} : { reviewer: args.reviewer }),
        ...(args.comment === undefined ? {} : { comment: args.comment }),
        ...(Object.keys(sections).length === 0 ? {} : { sections }),
      };
      state.carry.decisions[review.stepPath] = outcome;
      baton.event({ type: 'review-decided', runId, gate: review.gate, stepPath: review.stepPath, ...outcome, at: outcome.decidedAt });
    },
    { validator: (args) => void state.findReview(args) },
  );

  if (input.origin !== 'continue-as-new') {
    baton.event({ type: 'run-started', runId, pipeline: input.pipeline, engine: 'temporal', executionId: workflowInfo().runId, input: input.input, at: at() });
  }
  if (input.invalid) return finish({ status: 'failed', error: input.invalid });

  const effects = createWorkflowEffects(state);
  const interpretation = interpret(input.ir, input.input, effects, { runId, stages: input.stages });
  const finished = interpretation.then((outcome) => ({ outcome }));
  for (;;) {
    const ended = await Promise.race([finished, condition(() => state.draining && state.inFlight === 0).then(() => undefined)]);
    if (ended) return finish(ended.outcome);
    const carry = { ...state.carry, attempts: trimAttempts(state.carry.attempts), generation: state.carry.generation + 1 };
    if (JSON.stringify(carry).length <= MAX_CARRY_BYTES) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof batonWorkflow>({ ...input, carry, origin: 'continue-as-new' });
    }
    // too large for one payload: keep going here, up to Temporal's history limits
    state.stayInThisExecution = true;
    state.draining = false;
  }

  async function finish(outcome: RunOutcome): Promise<unknown> {
    await condition(allHandlersFinished);
    if (outcome.status === 'succeeded') {
      baton.event({ type: 'run-finished', runId, status: 'succeeded', output: outcome.output, at: at() });
      return outcome.output;
    }
    baton.event({ type: 'run-finished', runId, status: 'failed', error: outcome.error, at: at() });
    throw ApplicationFailure.create({ type: outcome.error.code, message: outcome.error.message, nonRetryable: true, details: [outcome.error] });
  }
}
