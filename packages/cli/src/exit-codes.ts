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
