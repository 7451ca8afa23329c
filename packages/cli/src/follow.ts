import type { RunInfo } from '@baton/core';
import type { Session } from './session.js';

/** How often a deployed run's status is read while following it (GetExecutionHistory is paged: keep it calm). */
const FOLLOW_INTERVAL_MS = 1000;

/**
 * Follows a deployed run (`--engine stepfunctions`) by its status: prints the steps as they come
 * into flight and failed attempts, and resolves `'waiting'` when the run waits at a review gate,
 * printing how to decide it. The review token never reaches this process: the deployment's
 * notifier (SNS, EventBridge, webhook) delivers it to the reviewer, with the dashboard's link.
 *
 * @example
 * ```ts
 * const state = await Promise.race([engine.result(runId).then(() => 'ended' as const), followDeployed(session, runId, stop.signal)]);
 * ```
 */
export async function followDeployed(session: Session, runId: string, stop: AbortSignal): Promise<'waiting'> {
  const seen = new Set<string>();
  while (!stop.aborted) {
    let info: RunInfo | undefined;
    try {
      info = await session.engine.status(runId);
    } catch (e) {
      if (!stop.aborted) session.progress.log(`status of ${runId} unavailable: ${(e as Error).message}`);
    }
    for (const step of info?.currentSteps ?? []) {
      if (!seen.has(`in ${step}`)) session.progress.log(`${step}: in flight`);
      seen.add(`in ${step}`);
    }
    for (const a of info?.attempts ?? []) {
      const key = `${a.stepPath}#${a.attempt}`;
      if (a.status !== 'failed' || seen.has(key)) continue;
      seen.add(key);
      session.progress.log(`${a.stepPath}: attempt ${a.attempt} FAILED ${a.error?.code}: ${a.error?.message}`);
    }
    if (info?.status === 'waiting') {
      for (const r of info.pendingReviews) {
        session.progress.log(`run ${runId} is waiting for review at gate "${r.gate}"${r.reviewer ? ` (assigned to ${r.reviewer})` : ''}, until ${r.expiresAt}.`);
        session.progress.log('The deployment notified the reviewer with the review link and token. Decide with the token from that notice:');
        session.progress.log(`  baton approve ${runId} ${r.gate} --token <token> --engine stepfunctions   (or: baton reject …, or the dashboard)`);
      }
      return 'waiting';
    }
    await new Promise((r) => setTimeout(r, FOLLOW_INTERVAL_MS));
  }
  return 'waiting'; // stopped: the run ended first, nobody reads this
}
