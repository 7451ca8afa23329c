import { type ErrorCode } from '@baton/core';
import { isErrorCode } from '@baton/core/engine';

/**
 * Exit codes of `baton run` (and of `approve`, `resume`, `redrive`, which follow a run the same
 * way), one per outcome a script needs to tell apart. Documented in `baton run --help` and the
 * README's CLI section.
 *
 * @example
 * ```sh
 * baton run report --sources docs --out out; case $? in 0) publish;; 3) review-gaps;; 4) wait-for-reviewer;; *) alert;; esac
 * ```
 */
export const RUN_EXIT_CODES = {
  /** The run succeeded and every section was generated. */
  succeeded: 0,
  /** The run failed (`baton redrive <run>` restarts its failed steps). */
  failed: 1,
  /** Usage error: a bad flag, a refused combination of options, an unknown run. */
  usage: 2,
  /** The run succeeded but some sections are placeholders (failed, held or accepted as missing). */
  succeededWithMissingSections: 3,
  /** The run waits at a review gate; someone decides it with the token of the review notice. */
  waitingForReview: 4,
  /** SIGINT/SIGTERM stopped this process following the run; the run goes on in workers or the deployment. */
  stoppedFollowing: 5,
  /** SIGINT (128 + 2) stopped the run's steps running in this process; `baton resume <run>` continues. */
  interruptedSigint: 130,
  /** SIGTERM (128 + 15): as {@link RUN_EXIT_CODES.interruptedSigint}. */
  interruptedSigterm: 143,
} as const;

/**
 * Exit codes of a command the engine refused (`approve`, `reject`, `redrive`, `status`, `resume`,
 * `run` of an unknown pipeline), one per kind of refusal a script acts on differently; the
 * engine's code says which ({@link ERROR_EXIT_CODES}).
 *
 * @example
 * ```sh
 * baton approve "$RUN" review --token "$T" --no-wait; [ $? -eq 8 ] && echo "already decided"
 * ```
 */
export const REFUSAL_EXIT_CODES = {
  /** No such run, gate, pipeline or pipeline version (`RunNotFound`, `GateNotFound`, `PipelineNotFound`, `PipelineVersionNotLoaded`). */
  notFound: 6,
  /** The review token is not this review's, or the gate is another reviewer's (`ReviewTokenRejected`). */
  tokenRejected: 7,
  /** The run's state refuses it: token used, gate not open, run not failed (`ReviewTokenUsed`, `GateNotOpen`, `RunNotRedrivable`). */
  conflict: 8,
  /** The engine did not answer within the wait; the run goes on (`ResultTimedOut`). */
  timedOut: 9,
} as const;

/**
 * The exit code of a command an engine call failed with each code. Typed over every code, so a
 * new code does not compile until the CLI has decided its exit code. A decision whose content is
 * refused (`InvalidInput`), an unreachable or misconfigured service are usage errors (2, as
 * before); the codes of run failures exit 1 (failed) if an engine call ever throws one.
 *
 * @example
 * ```ts
 * ERROR_EXIT_CODES.ReviewTokenUsed; // 8
 * ```
 */
export const ERROR_EXIT_CODES: Record<ErrorCode, number> = {
  RunNotFound: REFUSAL_EXIT_CODES.notFound,
  PipelineNotFound: REFUSAL_EXIT_CODES.notFound,
  GateNotFound: REFUSAL_EXIT_CODES.notFound,
  PipelineVersionNotLoaded: REFUSAL_EXIT_CODES.notFound,
  ReviewTokenRejected: REFUSAL_EXIT_CODES.tokenRejected,
  ReviewTokenUsed: REFUSAL_EXIT_CODES.conflict,
  GateNotOpen: REFUSAL_EXIT_CODES.conflict,
  RunNotRedrivable: REFUSAL_EXIT_CODES.conflict,
  ResultTimedOut: REFUSAL_EXIT_CODES.timedOut,
  InvalidInput: RUN_EXIT_CODES.usage,
  ServiceUnavailableException: RUN_EXIT_CODES.usage,
  ConfigurationError: RUN_EXIT_CODES.usage,
  ThrottlingException: RUN_EXIT_CODES.usage,
  ModelErrorException: RUN_EXIT_CODES.failed,
  ValidationFailed: RUN_EXIT_CODES.failed,
  SafetyCheckFailed: RUN_EXIT_CODES.failed,
  ApprovalRejected: RUN_EXIT_CODES.failed,
  ApprovalTimedOut: RUN_EXIT_CODES.failed,
  'States.Timeout': RUN_EXIT_CODES.failed,
  'States.Runtime': RUN_EXIT_CODES.failed,
  'States.ExceedToleratedFailureThreshold': RUN_EXIT_CODES.failed,
  'States.NoChoiceMatched': RUN_EXIT_CODES.failed,
  'States.DataLimitExceeded': RUN_EXIT_CODES.failed,
  StageFailed: RUN_EXIT_CODES.failed,
  ModelAccessDenied: RUN_EXIT_CODES.failed,
  BatonWorkerStopped: RUN_EXIT_CODES.failed,
  ModelBudgetUnavailable: RUN_EXIT_CODES.failed,
  ModelQuotaExhausted: RUN_EXIT_CODES.failed,
};

/**
 * The exit code for an error code an engine call threw ({@link ERROR_EXIT_CODES}); a code of a
 * stage's own exits 1.
 *
 * @example
 * ```ts
 * errorExitCode('RunNotFound'); // 6
 * ```
 */
export function errorExitCode(code: string): number {
  return isErrorCode(code) ? ERROR_EXIT_CODES[code] : RUN_EXIT_CODES.failed;
}

/**
 * Exit codes of `baton worker` after SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * process.exitCode = handedBack > 0 ? WORKER_EXIT_CODES.handedBack : WORKER_EXIT_CODES.drained;
 * ```
 */
export const WORKER_EXIT_CODES = {
  /** Every step the worker had started finished before it stopped. */
  drained: 0,
  /** Steps still running at the grace time were handed back: another worker runs them again. */
  handedBack: 3,
} as const;

/** The help text of the exit codes, for `baton run --help`. */
export const RUN_EXIT_HELP = `
Exit codes:
  0    succeeded, every section generated
  1    failed (baton redrive <run> restarts the failed steps)
  2    usage error: bad or refused options (the message names the process that would honour them)
  3    succeeded with missing sections (placeholders in the report; the summary lists them)
  4    waiting for review (decide with the token of the review notice, or the dashboard)
  5    SIGINT/SIGTERM: this process stopped following; the run goes on in workers or the deployment
  6    not found: no such run, gate or pipeline
  7    review token rejected: not this review's token, or the gate is another reviewer's
  8    refused by the run's state: token already used, gate not open, run not failed (redrive)
  9    the engine did not answer in time; the run goes on
  130  SIGINT, 143 SIGTERM: the run's steps in this process stopped; baton resume <run> continues it`;

/**
 * The exit code of a run that ended, from its status and the report's section counts: a report
 * with placeholders exits {@link RUN_EXIT_CODES.succeededWithMissingSections}.
 *
 * @example
 * ```ts
 * runExitCode('succeeded', { report: { sections: { total: 9, ok: 7 } } }); // 3
 * ```
 */
export function runExitCode(status: string, output: unknown): number {
  if (status === 'failed') return RUN_EXIT_CODES.failed;
  if (status === 'waiting') return RUN_EXIT_CODES.waitingForReview;
  return missingSections(output) > 0 ? RUN_EXIT_CODES.succeededWithMissingSections : RUN_EXIT_CODES.succeeded;
}

/**
 * How many sections of a run's report are placeholders, read from the assemble stage's output
 * (`report.sections`): the counts `{ total, ok }`, or a list of sections whose `status` is not `ok`.
 * 0 when the output has no report.
 *
 * @example
 * ```ts
 * missingSections({ report: { sections: { total: 9, ok: 9, failed: 0, held: 0 } } }); // 0
 * ```
 */
export function missingSections(output: unknown): number {
  const sections = (output as { report?: { sections?: unknown } } | undefined)?.report?.sections;
  if (Array.isArray(sections)) return sections.filter((s) => (s as { status?: unknown })?.status !== 'ok').length;
  if (!sections || typeof sections !== 'object') return 0;
  const { total, ok, missing } = sections as { total?: unknown; ok?: unknown; missing?: unknown };
  if (typeof missing === 'number') return missing;
  return typeof total === 'number' && typeof ok === 'number' ? Math.max(0, total - ok) : 0;
}

/** The help text of `baton worker`'s stop and exit codes. */
export const WORKER_EXIT_HELP = `
On SIGINT/SIGTERM the worker stops taking work; steps in flight get 4 s to finish, then are handed
back (BullMQ: their jobs return to the queue when their lock lapses; Temporal: the cancelled
activity is retried on another worker), as the same attempt. It exits within 5 s:
  0    every step in flight finished
  3    some steps were handed back to other workers`;
