import { numberOf, type SqlExecutor } from './sql.js';
import type { PipelineUsage, RunUsageDetail, UsageReport, UsageSummary } from './types.js';

/**
 * Sums of `stage_attempt` usage columns (of table alias `t` when given), named as `pipeline_run`
 * names its totals: one home for the run totals (`refreshTotals`) and every usage query. `cost`
 * is NULL while no attempt was priced.
 */
export function usageSums(t = ''): string {
  const c = (column: string): string => (t ? `${t}.${column}` : column);
  const sum = (column: string): string => `COALESCE(SUM(${c(column)}), 0) AS ${column}`;
  const columns = [
    'model_calls',
    'throttled_calls',
    'input_tokens',
    'output_tokens',
    'estimated_input_tokens',
    'estimated_output_tokens',
    'budget_wait_ms',
    'failed_input_tokens',
  ];
  return [`COUNT(*) FILTER (WHERE ${c('status')} <> 'running') AS attempts`, ...columns.map(sum), `SUM(${c('cost')}) AS cost`].join(', ');
}

// the outermost map item of a step path (`sections[3]/generate` -> `sections[3]`), as core's summarizeUsage groups sections
const SECTION = `substring(step_path from '^[^[]*[[][0-9]+[]]')`;

type Row = Record<string, unknown>;

/** A row of {@link usageSums} columns (or `pipeline_run`'s totals) as a {@link UsageSummary}. */
export function usageOf(row: Row): UsageSummary {
  const out: UsageSummary = {
    attempts: numberOf(row.attempts),
    modelCalls: numberOf(row.model_calls),
    throttledCalls: numberOf(row.throttled_calls),
    inputTokens: numberOf(row.input_tokens),
    outputTokens: numberOf(row.output_tokens),
    estimatedInputTokens: numberOf(row.estimated_input_tokens),
    estimatedOutputTokens: numberOf(row.estimated_output_tokens),
    budgetWaitMs: numberOf(row.budget_wait_ms),
    failedInputTokens: numberOf(row.failed_input_tokens),
  };
  if (row.cost !== null && row.cost !== undefined) out.cost = numberOf(row.cost);
  return out;
}

/** A run's usage in total (every attempt of every execution), per section (outermost map item) and the models the price table lacked. */
export async function runUsage(db: SqlExecutor, runId: string): Promise<RunUsageDetail> {
  const [total] = await db.query(`SELECT ${usageSums()} FROM stage_attempt WHERE run_id = $1`, [runId]);
  const sections = await db.query(`SELECT ${SECTION} AS section, ${usageSums()} FROM stage_attempt WHERE run_id = $1 AND ${SECTION} IS NOT NULL GROUP BY 1`, [
    runId,
  ]);
  const unpriced = await db.query<{ model: string }>(
    `SELECT DISTINCT jsonb_array_elements_text(unpriced_models) AS model FROM stage_attempt WHERE run_id = $1 AND unpriced_models IS NOT NULL ORDER BY 1`,
    [runId],
  );
  const bySection: Record<string, UsageSummary> = {};
  // item order, not text order: sections[10] after sections[9]
  const index = (s: string): number => Number(/\[(\d+)\]$/.exec(s)?.[1] ?? 0);
  for (const row of sections.sort((a, b) => index(String(a.section)) - index(String(b.section)) || String(a.section).localeCompare(String(b.section)))) {
    bySection[String(row.section)] = usageOf(row);
  }
  return { total: usageOf(total ?? {}), bySection, unpricedModels: unpriced.map((r) => r.model) };
}

/** Usage of the attempts that finished in [since, until), by the pipeline of their run, costliest first. */
export async function usageByPipeline(db: SqlExecutor, since: Date, until: Date | undefined): Promise<UsageReport> {
  const range = `a.finished_at >= $1::timestamptz AND ($2::timestamptz IS NULL OR a.finished_at < $2::timestamptz)`;
  const params = [since.toISOString(), until ? until.toISOString() : null];
  const rows = await db.query(
    `SELECT r.pipeline, COUNT(DISTINCT a.run_id) AS runs, ${usageSums('a')}
     FROM stage_attempt a JOIN pipeline_run r ON r.run_id = a.run_id WHERE ${range}
     GROUP BY r.pipeline ORDER BY SUM(a.cost) DESC NULLS LAST, r.pipeline`,
    params,
  );
  const [total] = await db.query(`SELECT COUNT(DISTINCT a.run_id) AS runs, ${usageSums('a')} FROM stage_attempt a WHERE ${range}`, params);
  const pipelines = rows.map((row): PipelineUsage => ({ pipeline: String(row.pipeline), runs: numberOf(row.runs), ...usageOf(row) }));
  return {
    since: since.toISOString(),
    ...(until ? { until: until.toISOString() } : {}),
    total: { runs: numberOf(total?.runs), ...usageOf(total ?? {}) },
    pipelines,
  };
}
