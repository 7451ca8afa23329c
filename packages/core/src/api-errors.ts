import { StageError, type ApiErrorCode } from './errors.js';
import { walkSteps, type PipelineIR } from './ir.js';

// No Node built-ins here: workflow sandboxes (Temporal) refuse decisions with these errors.

/** Why a run cannot be redriven (see {@link apiError}`.runNotRedrivable`). */
export type NotRedrivableReason = 'in-progress' | 'succeeded' | 'invalid-input';

const NOT_REDRIVABLE: Record<NotRedrivableReason, string> = {
  'in-progress': 'is still in progress; only a failed run can be redriven',
  succeeded: 'has not failed (it succeeded); only a failed run can be redriven',
  'invalid-input': 'failed on its input; there is nothing to redrive (start a new run with valid input)',
};

function refusal(code: ApiErrorCode, message: string, details: Record<string, unknown>): StageError {
  return new StageError(code, message, { details });
}

/**
 * The errors an engine API call throws when it refuses, one code of the `api` class each
 * (`RunNotFound`, `GateNotOpen`, …), with the same message on every engine: engines build them
 * here instead of writing their own. The CLI and the dashboard map the codes to exit codes and
 * HTTP statuses.
 *
 * @example
 * ```ts
 * if (!run) throw apiError.runNotFound(runId);
 * ```
 */
export const apiError = {
  /** `RunNotFound`: no run of this id. */
  runNotFound: (runId: string): StageError => refusal('RunNotFound', `unknown run "${runId}"`, { runId }),
  /** `PipelineNotFound`: no pipeline of this name; `known` lists those the engine has. */
  pipelineNotFound: (pipeline: string, known: readonly string[]): StageError =>
    refusal('PipelineNotFound', `unknown pipeline "${pipeline}"; this engine knows: ${known.join(', ') || 'none'}`, { pipeline, known: [...known] }),
  /**
   * `PipelineVersionNotLoaded`: the engine does not hold the pipeline version a run is pinned to
   * (or holds it with another IR or other stage versions, said in `why`); `loaded` lists the
   * versions it holds. Nothing of the run was changed.
   */
  pipelineVersionNotLoaded: (pipeline: string, version: number, loaded: readonly number[], runId?: string, why?: string): StageError =>
    refusal(
      'PipelineVersionNotLoaded',
      `${runId ? `run "${runId}" is pinned to pipeline "${pipeline}" version ${version}, which` : `pipeline "${pipeline}" version ${version}`} ${why ? `is loaded but ${why}` : 'is not loaded'}; this engine holds version(s) ${loaded.join(', ') || 'none'} of it`,
      { pipeline, version, loaded: [...loaded], ...(runId ? { runId } : {}) },
    ),
  /** `GateNotFound`: the run's pipeline has no approval gate of this name. */
  gateNotFound: (runId: string, gate: string, gates: readonly string[]): StageError =>
    refusal('GateNotFound', `run "${runId}" has no gate "${gate}" (its pipeline's gates: ${gates.join(', ') || 'none'})`, { runId, gate, gates: [...gates] }),
  /** `GateNotOpen`: the gate exists but has no open review. */
  gateNotOpen: (runId: string, gate: string): StageError =>
    refusal('GateNotOpen', `run "${runId}" has no open review at gate "${gate}" (not reached yet, already decided, timed out, or the run ended)`, {
      runId,
      gate,
    }),
  /** `ReviewTokenRejected`: the token matches no review of the gate. */
  reviewTokenRejected: (runId: string, gate: string): StageError =>
    refusal('ReviewTokenRejected', `review token rejected for gate "${gate}" of run "${runId}"`, { runId, gate }),
  /** `ReviewTokenRejected`: the gate is assigned to another reviewer than the one deciding. */
  reviewerNotAssigned: (runId: string, gate: string, reviewer: string): StageError =>
    refusal('ReviewTokenRejected', `gate "${gate}" of run "${runId}" is assigned to reviewer "${reviewer}"`, { runId, gate, reviewer }),
  /** `ReviewTokenUsed`: the token's decision was already recorded. */
  reviewTokenUsed: (runId: string, gate: string): StageError =>
    refusal('ReviewTokenUsed', `review token for gate "${gate}" of run "${runId}" was already used (a token decides once)`, { runId, gate }),
  /** `RunNotRedrivable`: only a failed run can be redriven. */
  runNotRedrivable: (runId: string, reason: NotRedrivableReason): StageError =>
    refusal('RunNotRedrivable', `run "${runId}" ${NOT_REDRIVABLE[reason]}`, { runId, reason }),
  /** `ResultTimedOut`: `result()` stopped waiting; the run goes on. */
  resultTimedOut: (runId: string, timeoutMs: number): StageError =>
    refusal('ResultTimedOut', `run "${runId}" did not end within ${timeoutMs} ms (it goes on; call result() again to wait more)`, { runId, timeoutMs }),
} as const;

/**
 * The `result()` wait of an engine whose run's end is a promise: `done`, or `ResultTimedOut` once
 * `timeoutMs` passes (the run goes on; a later `result()` waits again). Without `timeoutMs`, `done`.
 *
 * @example
 * ```ts
 * async result(runId, { timeoutMs } = {}) {
 *   return resultWithin(runId, run(runId).done, timeoutMs);
 * }
 * ```
 */
export function resultWithin<T>(runId: string, done: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return done;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(apiError.resultTimedOut(runId, timeoutMs)), timeoutMs);
  });
  return Promise.race([done, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The approval gate names of a pipeline, in the order they appear (nested steps included).
 *
 * @example
 * ```ts
 * approvalGatesOf(pipeline.ir); // ['review']
 * ```
 */
export function approvalGatesOf(ir: Pick<PipelineIR, 'steps'>): string[] {
  const gates: string[] = [];
  walkSteps(ir.steps, (step) => {
    if (step.kind === 'approval' && !gates.includes(step.gate)) gates.push(step.gate);
  });
  return gates;
}

/**
 * Throws `GateNotFound` when the run's pipeline has no approval gate named `gate`.
 *
 * @example
 * ```ts
 * assertGateOf({ run: runId, gate: 'review' }, pipeline.ir);
 * ```
 */
export function assertGateOf(where: { run: string; gate: string }, ir: Pick<PipelineIR, 'steps'>): void {
  const gates = approvalGatesOf(ir);
  if (!gates.includes(where.gate)) throw apiError.gateNotFound(where.run, where.gate, gates);
}
