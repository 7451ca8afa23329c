import type { RunInfo } from '@baton/core';
import { join } from 'node:path';
import type { GlobalOptions } from './context.js';
import { assertNotDrivenElsewhere } from './interrupted.js';
import { RUN_EXIT_CODES, runExitCode, missingSections } from './exit-codes.js';
import { followStatus, reviewPage } from './follow.js';
import { copyOutputs, reportKeys, summaryText } from './outputs.js';
import type { Session } from './session.js';
import { signalExitCode, STOP_BUDGET_MS, stopSignal, within, type StopSignal } from './shutdown.js';

/**
 * Whether this process runs the run's steps: the in-process engines (local, stepfunctions-local)
 * and bullmq / temporal unless `--no-worker`. A deployed run's steps, and those of `--no-worker`,
 * run elsewhere: this process only follows them.
 *
 * @example
 * ```ts
 * runsStepsHere({ engine: 'temporal', connection: { worker: false } } as GlobalOptions); // false
 * ```
 */
export function runsStepsHere(global: Pick<GlobalOptions, 'engine' | 'connection'>): boolean {
  if (global.engine === 'stepfunctions') return false;
  if (global.engine === 'bullmq' || global.engine === 'temporal') return global.connection?.worker !== false;
  return true;
}

/**
 * Whether review notices of gates opened by other processes reach this one: BullMQ relays them to
 * every engine with a notifier; Temporal delivers them only in the worker whose activity opened the
 * gate, and a deployment through its own notifier.
 */
function noticesReachHere(global: Pick<GlobalOptions, 'engine' | 'connection'>): boolean {
  if (global.engine === 'stepfunctions') return false;
  if (global.engine === 'temporal') return global.connection?.worker !== false;
  return true;
}

/**
 * Follows a run to its end, or until it waits at a review gate, or until SIGINT/SIGTERM; copies
 * its report files to `out`, prints the summary and returns the exit code ({@link RUN_EXIT_CODES}):
 * 0 succeeded, 1 failed, 3 succeeded with missing sections, 4 waiting for review; on a signal,
 * 5 when the run goes on elsewhere (this process only followed it) and 130/143 when the run's
 * steps in this process stopped (`baton resume` continues them). Closing takes at most
 * {@link STOP_BUDGET_MS} after a signal.
 *
 * @example
 * ```ts
 * process.exitCode = await finishRun(session, runId, 'out', global);
 * ```
 */
export async function finishRun(
  session: Session,
  runId: string,
  out: string | undefined,
  global: Pick<GlobalOptions, 'engine' | 'connection' | 'stateDir'>,
  /** The stop signal the caller installed before starting the run (else installed here). */
  given?: ReturnType<typeof stopSignal>,
): Promise<number> {
  try {
    assertNotDrivenElsewhere(global, runId);
  } catch (e) {
    given?.dispose();
    await session.close();
    throw e;
  }
  const signal = given ?? stopSignal();
  const ended = session.engine.result(runId).then(() => 'ended' as const);
  // left waiting, the engine is closed while result() still polls: that rejection is nobody's
  ended.catch(() => undefined);
  const stop = new AbortController();
  const waiting = noticesReachHere(global)
    ? session.reviewer.leftWaiting.then((n) => {
        session.progress.log(`review page: ${reviewPage(n.runId, n.gate)}`);
        return 'waiting' as const;
      })
    : followStatus(session, runId, stop.signal, global.engine === 'stepfunctions' ? 'deployment' : 'workers');
  const state = await Promise.race([ended, waiting, signal.promise]).finally(() => {
    stop.abort();
    signal.dispose();
  });
  session.progress.stop();
  if (state === 'SIGINT' || state === 'SIGTERM') return interrupted(session, runId, state, global);
  const info = await session.engine.status(runId);
  const succeeded = state === 'ended' && info.status === 'succeeded';
  // Without --out the files stay in the filesystem blob store under the state directory.
  // a deployed run's files stay in the deployment's bucket (keys shown) unless --out copies them
  const stored = (k: string): string => (session.engine.name === 'stepfunctions' ? k : join(session.stateDir, 'blobs', k));
  const files = !succeeded ? [] : out ? await copyOutputs(session.blobs, info.output, out) : reportKeys(info.output).map(stored);
  process.stdout.write(summaryText(info, session.progress.counts, files) + '\n' + outcomeLine(info, state) + '\n');
  await session.close();
  return state === 'waiting' && info.status !== 'succeeded' && info.status !== 'failed'
    ? RUN_EXIT_CODES.waitingForReview
    : runExitCode(info.status, info.output);
}

/** The last line of the summary: what the exit code says, in words. */
function outcomeLine(info: RunInfo, state: 'ended' | 'waiting'): string {
  if (state === 'waiting' && info.status !== 'succeeded' && info.status !== 'failed')
    return `  outcome: waiting for review (exit ${RUN_EXIT_CODES.waitingForReview})`;
  const code = runExitCode(info.status, info.output);
  if (code === RUN_EXIT_CODES.succeededWithMissingSections)
    return `  outcome: succeeded with ${missingSections(info.output)} missing section(s) (exit ${code})`;
  return `  outcome: ${info.status} (exit ${code})`;
}

/** SIGINT/SIGTERM while following: stop within the budget and say what happens to the run. */
async function interrupted(session: Session, runId: string, signal: StopSignal, global: Pick<GlobalOptions, 'engine' | 'connection'>): Promise<number> {
  const here = runsStepsHere(global);
  if (here) {
    const where =
      global.engine === 'local' || global.engine === 'stepfunctions-local'
        ? `is saved in ${session.stateDir}`
        : `stays in ${global.engine}: steps in flight here are handed back to the other workers`;
    process.stderr.write(`\n${signal}: interrupted: run ${runId} ${where}; continue it with: baton resume ${runId}\n`);
  } else {
    const where = global.engine === 'stepfunctions' ? 'Step Functions' : `the ${global.engine} workers`;
    process.stderr.write(
      `\n${signal}: stopped following run ${runId}; it goes on in ${where}. Follow it again with: baton resume ${runId}, or see it with: baton status ${runId}\n`,
    );
  }
  const clean = await within(STOP_BUDGET_MS, () => session.close());
  if (!clean) process.stderr.write(`(closing the engine took over ${STOP_BUDGET_MS} ms: exiting anyway)\n`);
  return here ? signalExitCode(signal) : RUN_EXIT_CODES.stoppedFollowing;
}
