import { isStageError, type RunInfo, type SectionVerdict } from '@baton/core';
import { type ApiErrorCode } from '@baton/core/engine';
import { CliError } from '../errors.js';
import type { ReviewMode } from '../review.js';
import { finishRun } from '../finish.js';
import { reviewPage } from '../follow.js';
import { openSession, type GlobalOptions } from '../session.js';
import { readSidecar } from '../sidecar.js';
import { interruptedNote, neverRecorded } from '../interrupted.js';
import { RUN_EXIT_CODES, errorExitCode } from '../exit-codes.js';

/** What to do about a decision the engine refused, by its code. */
const DECIDE_HINTS: Record<ApiErrorCode, string> = {
  RunNotFound: 'Check the run id (baton list).',
  PipelineNotFound: 'Pass the pipelines the run was started with (--pipelines).',
  PipelineVersionNotLoaded: 'Load the pipeline version the run started on (--pipelines), next to the newer one.',
  GateNotFound: 'Check the gate name (baton status <run> lists the open reviews).',
  ReviewTokenRejected: 'Use the token printed when the gate opened, as the reviewer it names.',
  ReviewTokenUsed: 'This token decided the gate already; nothing was changed.',
  GateNotOpen: 'The gate is not waiting for a decision now (baton status <run>).',
  RunNotRedrivable: 'Nothing was decided.',
  ResultTimedOut: 'The engine did not answer in time; see baton status <run>.',
};

/** The code of an engine's error and its exit code; an error without a code is a usage error (2), as before. */
function exitCodeOf(e: unknown): { code: string; exit: number } {
  return isStageError(e) ? { code: e.code, exit: errorExitCode(e.code) } : { code: '', exit: RUN_EXIT_CODES.usage };
}

/** Global options with what the CLI remembered about the run filled in. */
function withSidecar(global: GlobalOptions, runId: string, explicit: Set<string>): { global: GlobalOptions; out: string | undefined; mode: ReviewMode } {
  const s = readSidecar(global.stateDir, runId);
  const mode: ReviewMode = s?.autoApprove ? 'auto' : process.stdin.isTTY && process.stderr.isTTY ? 'prompt' : 'print';
  if (!s) return { global, out: undefined, mode };
  return {
    mode,
    global: {
      ...global,
      pipelines: explicit.has('pipelines') ? global.pipelines : s.pipelines,
      model: explicit.has('model') ? global.model : s.model,
      engine: explicit.has('engine') ? global.engine : s.engine,
      ...(s.faults && !explicit.has('faults') ? { faults: s.faults } : {}),
      ...(s.prices && !explicit.has('prices') ? { prices: s.prices } : {}),
      ...(s.connection || global.connection ? { connection: { ...s.connection, ...global.connection } } : {}),
    },
    out: s.out,
  };
}

/** `baton approve|reject <run> <gate> --token <t>`: decides a gate, then (by default) waits for the run to end. */
export async function decideCommand(
  verdict: 'approve' | 'reject',
  runId: string,
  gate: string,
  opts: { token: string; reviewer?: string; comment?: string; wait: boolean; out?: string; section?: Record<string, SectionVerdict> },
  global: GlobalOptions,
  explicit: Set<string>,
): Promise<number> {
  if (verdict === 'reject' && opts.section)
    throw new CliError('reject rejects the whole report; give --section verdicts with baton approve (send-back:<note> asks for a section again)');
  const { global: g, out } = withSidecar(global, runId, explicit);
  const session = await openSession(opts.wait ? g : withoutWorker(g), 'print');
  const decision = {
    token: opts.token,
    ...(opts.reviewer ? { reviewer: opts.reviewer } : {}),
    ...(opts.comment ? { comment: opts.comment } : {}),
    ...(opts.section ? { sections: opts.section } : {}),
  };
  try {
    if (verdict === 'approve') await session.engine.approve(runId, gate, decision);
    else await session.engine.reject(runId, gate, decision);
  } catch (e) {
    await session.close();
    // a refused decision is checked before the token is used: the same command, corrected, still works
    if (isStageError(e) && e.code === 'InvalidInput')
      throw new CliError(`${verdict} failed: ${e.message}. Nothing was decided; the gate is still open (${reviewPage(runId, gate)}).`);
    const hint =
      (DECIDE_HINTS as Partial<Record<string, string>>)[exitCodeOf(e).code] ??
      `Check the run id, the gate name and the token printed when the gate opened (baton status ${runId}).`;
    throw new CliError(`${verdict} failed: ${(e as Error).message}. ${hint}`, exitCodeOf(e).exit);
  }
  const verdicts = Object.entries(opts.section ?? {}).map(([id, v]) => `${id}: ${v.verdict}`);
  session.progress.log(
    `gate "${gate}" of run ${runId}: ${verdict === 'approve' ? 'approved' : 'rejected'}${verdicts.length ? ` (${verdicts.join(', ')})` : ''}`,
  );
  if (!opts.wait) {
    await session.close();
    return 0;
  }
  return finishRun(session, runId, opts.out ?? out, g);
}

/** `baton resume <run>`: continues an unfinished run (after a crash or Ctrl-C) in this process. */
export async function resumeCommand(runId: string, opts: { out?: string }, global: GlobalOptions, explicit: Set<string>): Promise<number> {
  const { global: g, out, mode } = withSidecar(global, runId, explicit);
  const session = await openSession(g, mode);
  const info = await session.engine.status(runId).catch(async (e: unknown) => {
    await session.close();
    throw isStageError(e) && e.code === 'RunNotFound' ? neverRecorded(runId) : e;
  });
  if (info.status === 'waiting') {
    printWaiting(info);
    await session.close();
    return RUN_EXIT_CODES.waitingForReview;
  }
  return finishRun(session, runId, opts.out ?? out, g);
}

/** `baton redrive <run>`: restarts a failed run from its failed steps, reusing completed ones. */
export async function redriveCommand(runId: string, opts: { out?: string }, global: GlobalOptions, explicit: Set<string>): Promise<number> {
  const { global: g, out, mode } = withSidecar(global, runId, explicit);
  const session = await openSession(g, mode);
  try {
    await session.engine.redrive(runId);
  } catch (e) {
    await session.close();
    throw new CliError(`redrive failed: ${(e as Error).message}`, exitCodeOf(e).exit);
  }
  return finishRun(session, runId, opts.out ?? out, g);
}

/** `baton status <run>`: the run's state, steps in flight, attempts, retries and open reviews. */
export async function statusCommand(runId: string, opts: { json?: boolean }, global: GlobalOptions, explicit: Set<string>): Promise<number> {
  const { global: g } = withSidecar(global, runId, explicit);
  const session = await openSession(withoutWorker(g), 'print', false);
  let info: RunInfo;
  try {
    info = await session.engine.status(runId);
  } catch (e) {
    throw new CliError(`${(e as Error).message}. List runs with: baton list`, exitCodeOf(e).exit);
  } finally {
    await session.close();
  }
  const interrupted = interruptedNote(g, info);
  if (opts.json) {
    process.stdout.write(JSON.stringify(interrupted ? { ...info, interrupted } : info, null, 2) + '\n');
    return 0;
  }
  const lines = [
    `run ${info.runId}: ${interrupted ?? info.status} (${info.pipeline} on ${info.engine})`,
    `  started ${info.startedAt}, updated ${info.updatedAt}${info.finishedAt ? `, finished ${info.finishedAt}` : ''}`,
    `  attempts ${info.attempts.length} (${info.attempts.filter((a) => a.status === 'failed').length} failed), retries ${info.retries.length}`,
  ];
  if (info.currentSteps.length) lines.push(`  in flight: ${info.currentSteps.join(', ')}`);
  for (const a of info.attempts.filter((x) => x.status === 'failed')) lines.push(`  ! ${a.stepPath} #${a.attempt}: ${a.error?.code}: ${a.error?.message}`);
  for (const r of info.pendingReviews) {
    lines.push(`  waiting for review at gate "${r.gate}" by ${r.reviewer ?? 'anyone with the review link'} since ${r.createdAt} (expires ${r.expiresAt})`);
    lines.push(`    review page: ${reviewPage(info.runId, r.gate)}`);
    lines.push(
      `    decide: baton approve ${info.runId} ${r.gate} --token <token>${r.sections?.length ? ` --section <id>=approve|send-back:<note>|accept-missing (sections: ${r.sections.join(', ')})` : ''}`,
    );
  }
  if (info.error) lines.push(`  error: ${info.error.code}: ${info.error.message}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

/** `baton list`: runs known to the engine, newest first. */
export async function listCommand(global: GlobalOptions): Promise<number> {
  const session = await openSession(withoutWorker(global), 'print', false);
  const rows = await session.engine.list();
  await session.close();
  for (const r of rows) process.stdout.write(`${r.runId}  ${r.status.padEnd(9)} ${r.pipeline}  ${r.startedAt}\n`);
  if (rows.length === 0) process.stdout.write('no runs\n');
  return 0;
}

/** Read-only commands never run an engine worker: it would start working on runs and delay the exit. */
function withoutWorker(global: GlobalOptions): GlobalOptions {
  return { ...global, connection: { ...global.connection, worker: false } };
}

function printWaiting(info: RunInfo): void {
  for (const r of info.pendingReviews) {
    process.stdout.write(
      `run ${info.runId} is waiting for review at gate "${r.gate}" by ${r.reviewer ?? 'anyone with the review link'} since ${r.createdAt}.\n`,
    );
    process.stdout.write(`  review page: ${reviewPage(info.runId, r.gate)}\n`);
    process.stdout.write(`  decide with: baton approve ${info.runId} ${r.gate} --token <token printed when the gate opened>\n`);
  }
}
