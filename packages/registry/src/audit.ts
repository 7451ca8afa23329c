import type { Engine } from '@baton/core';
import type { RunRegistry } from './types.js';

/** The outcome of {@link auditRunRecord}: `problems` lists every difference found. */
export interface RunAudit {
  ok: boolean;
  problems: string[];
}

/**
 * Compares what the registry recorded about a run with what its engine reports (`engine.status`):
 * status, error code, every attempt with its outcome, open reviews, and (when the engine reports
 * usage) the run's tokens, model calls, throttled calls and cost. Adapter tests call it
 * after a run to prove their engine leaves a complete record; flush the observer first.
 *
 * @example
 * ```ts
 * await observer.flush();
 * expect((await auditRunRecord(registry, engine, runId)).problems).toEqual([]);
 * ```
 */
export async function auditRunRecord(registry: RunRegistry, engine: Engine, runId: string): Promise<RunAudit> {
  const problems: string[] = [];
  const [truth, record] = await Promise.all([engine.status(runId), registry.getRun(runId)]);
  if (!record) return { ok: false, problems: [`run ${runId} is not in the registry`] };
  if (record.status !== truth.status) problems.push(`status: registry ${record.status}, engine ${truth.status}`);
  if (record.pipeline !== truth.pipeline) problems.push(`pipeline: registry ${record.pipeline}, engine ${truth.pipeline}`);
  if (record.engine !== truth.engine) problems.push(`engine: registry ${record.engine}, engine ${truth.engine}`);
  if ((record.error?.code ?? null) !== (truth.error?.code ?? null)) problems.push(`error: registry ${record.error?.code}, engine ${truth.error?.code}`);
  if (truth.finishedAt && !record.finishedAt) problems.push('the run finished but the registry has no finish time');
  const key = (a: { stepPath: string; attempt: number; status: string }): string => `${a.stepPath}#${a.attempt}:${a.status}`;
  const recorded = new Set(record.attempts.map(key));
  const reported = new Set(truth.attempts.map(key));
  for (const k of reported) if (!recorded.has(k)) problems.push(`attempt missing from the registry: ${k}`);
  for (const k of recorded) if (!reported.has(k)) problems.push(`attempt the engine does not report: ${k}`);
  for (const a of truth.attempts) {
    if (!record.steps.some((s) => s.stepPath === a.stepPath)) problems.push(`step missing from the registry: ${a.stepPath}`);
  }
  if (truth.usage) {
    // the engine's usage is summed from the same attempts' metrics the events carried
    const u = truth.usage;
    const counts: [string, number, number][] = [
      ['input tokens', record.inputTokens, u.inputTokens],
      ['output tokens', record.outputTokens, u.outputTokens],
      ['model calls', record.modelCalls, u.modelCalls],
      ['throttled calls', record.throttledCalls, u.throttledCalls],
    ];
    for (const [what, recorded, reported] of counts) if (recorded !== reported) problems.push(`${what}: registry ${recorded}, engine ${reported}`);
    if (Math.abs((record.cost ?? 0) - u.cost) > 1e-9 * Math.max(1, u.cost)) problems.push(`cost: registry ${record.cost ?? 'none'}, engine ${u.cost}`);
  }
  const open = new Set(record.reviews.filter((r) => !r.decidedAt).map((r) => `${r.stepPath}@${r.gate}`));
  for (const p of truth.pendingReviews)
    if (!open.has(`${p.stepPath}@${p.gate}`)) problems.push(`open review missing from the registry: ${p.gate} at ${p.stepPath}`);
  return { ok: problems.length === 0, problems };
}
