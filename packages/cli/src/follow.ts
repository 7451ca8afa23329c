import type { RunInfo } from '@baton/core';
import { dashboardUrl, readNotices } from './notifier.js';
import type { Session } from './session.js';

/** How often a run's status is read while following it from outside the process that runs its gates. */
const FOLLOW_INTERVAL_MS = 500;
/** A deployed run's history is paged (GetExecutionHistory): keep it calm. */
const FOLLOW_DEPLOYED_INTERVAL_MS = 1000;

/**
 * The dashboard page of a review gate, without the token (the notice carries it; a reviewer
 * signed in to the dashboard sees the review there and pastes the token from the notice).
 *
 * @example
 * ```ts
 * reviewPage('report-1', 'review'); // 'http://127.0.0.1:4680/reviews/report-1/review'
 * ```
 */
export function reviewPage(runId: string, gate: string, env: NodeJS.ProcessEnv = process.env): string {
  return `${dashboardUrl(env)}/reviews/${encodeURIComponent(runId)}/${encodeURIComponent(gate)}`;
}

/**
 * Follows a run by its status, for runs whose review notices never reach this process: a
 * deployed run (`--engine stepfunctions`, the deployment's notifier delivers them) or a Temporal
 * run whose gates run in `baton worker` processes (their `--review-notices` delivers them).
 * Prints steps as they come into flight and failed attempts, and resolves `'waiting'` when the
 * run waits at a review gate, printing the review page's link and how to decide it.
 *
 * @example
 * ```ts
 * const state = await Promise.race([engine.result(runId).then(() => 'ended' as const), followStatus(session, runId, stop.signal, 'deployment')]);
 * ```
 */
export async function followStatus(session: Session, runId: string, stop: AbortSignal, where: 'deployment' | 'workers'): Promise<'waiting'> {
  const seen = new Set<string>();
  const engineFlag = session.engine.name === 'local' ? '' : ` --engine ${session.engine.name}`;
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
    if (info?.status === 'waiting' && info.pendingReviews.length > 0) {
      for (const r of info.pendingReviews) {
        session.progress.log(
          `run ${runId} is waiting for review at gate "${r.gate}"${r.reviewer ? ` (assigned to ${r.reviewer})` : ''}, until ${r.expiresAt}.`,
        );
        session.progress.log(`review page: ${reviewPage(runId, r.gate)}`);
        session.progress.log(
          where === 'deployment'
            ? 'The deployment notified the reviewer with the review link and token. Decide with the token from that notice:'
            : "The worker that opened the gate sent the notice (with the token) through its --review-notices and the dashboard's review list. Decide with that token:",
        );
        const notice = where === 'workers' ? readNotices(session.stateDir, runId).findLast((n) => n.gate === r.gate) : undefined;
        if (notice)
          session.progress.log(
            `  baton approve ${runId} ${r.gate} --token ${notice.token}${engineFlag}   (token from ${session.stateDir}/reviews/notices.jsonl, written by the worker)`,
          );
        else session.progress.log(`  baton approve ${runId} ${r.gate} --token <token>${engineFlag}   (or: baton reject …, or the dashboard)`);
      }
      return 'waiting';
    }
    await new Promise((r) => setTimeout(r, where === 'deployment' ? FOLLOW_DEPLOYED_INTERVAL_MS : FOLLOW_INTERVAL_MS));
  }
  return 'waiting'; // stopped: the run ended first, nobody reads this
}
