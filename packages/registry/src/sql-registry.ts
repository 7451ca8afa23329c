import type { RunEvent, RunState } from '@baton/core';
import { applyEvent, refreshTotals, runsWithUsage, type ApplyRules } from './apply.js';
import { classifyFailure, type FailureClassifier } from './classify.js';
import { labelReader, type RunLabelPaths } from './labels.js';
import { migrate } from './migrate.js';
import { listDecisions } from './review-audit.js';
import { attemptOf, REVIEW_COLUMNS, reviewOf, runOf, stepOf } from './rows.js';
import { isoOf, numberOf, type SqlClient } from './sql.js';
import { runUsage, usageByPipeline } from './usage.js';
import { FAILURE_CLASSES, type FailureClass, type FailureCount, type InFlightRun, type RunRegistry } from './types.js';

/** Options shared by every registry implementation. */
export interface SqlRegistryOptions {
  /** Decides the failure class of each error. @default {@link classifyFailure} */
  classify?: FailureClassifier;
  /** Apply pending migrations on creation. @default true */
  migrate?: boolean;
  /** Where run labels (report id, reviewer id) are read from each run's input. @default \{ reportId: '$.reportId', reviewerId: '$.reviewerId' \} */
  labels?: RunLabelPaths;
}

// the client behind each registry, for stores that share its tables (the task-token review store)
const clients = new WeakMap<RunRegistry, SqlClient>();

/** The {@link SqlClient} of a registry made by {@link createSqlRegistry} (or the PostgreSQL / PGlite factories). */
export function sqlClientOf(registry: RunRegistry): SqlClient {
  const client = clients.get(registry);
  if (!client) throw new Error('this RunRegistry was not made by createSqlRegistry, createPostgresRegistry or createPgliteRegistry');
  return client;
}

/**
 * A {@link RunRegistry} over any {@link SqlClient}. Use {@link createPostgresRegistry} or
 * {@link createPgliteRegistry} unless you bring your own client.
 *
 * @example
 * ```ts
 * const registry = await createSqlRegistry(myClient);
 * const inFlight = await registry.runsInFlight();
 * ```
 */
export async function createSqlRegistry(client: SqlClient, options: SqlRegistryOptions = {}): Promise<RunRegistry> {
  const rules: ApplyRules = { classify: options.classify ?? classifyFailure, labels: labelReader(options.labels) };
  if (options.migrate !== false) await migrate(client);
  const registry: RunRegistry = {
    async apply(event: RunEvent) {
      await client.transaction(async (tx) => {
        await applyEvent(tx, event, rules);
        await refreshTotals(tx, runsWithUsage([event]));
      });
    },
    async applyAll(events) {
      if (events.length === 0) return;
      await client.transaction(async (tx) => {
        for (const event of events) await applyEvent(tx, event, rules);
        await refreshTotals(tx, runsWithUsage(events));
      });
    },
    async listRuns(filter = {}) {
      const rows = await client.query(
        `SELECT * FROM pipeline_run
         WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR pipeline = $2) AND ($3::text IS NULL OR engine = $3)
           AND ($5::text IS NULL OR report_id = $5)
         ORDER BY started_at DESC, run_id DESC LIMIT $4`,
        [filter.status ?? null, filter.pipeline ?? null, filter.engine ?? null, filter.limit ?? 100, filter.reportId ?? null],
      );
      return rows.map(runOf);
    },
    async getRun(runId) {
      const [run] = await client.query('SELECT * FROM pipeline_run WHERE run_id = $1', [runId]);
      if (!run) return undefined;
      const steps = await client.query('SELECT * FROM pipeline_step WHERE run_id = $1 ORDER BY started_at, step_path', [runId]);
      const attempts = await client.query('SELECT * FROM stage_attempt WHERE run_id = $1 ORDER BY started_at, step_path, execution, attempt', [runId]);
      const reviews = await client.query(`SELECT ${REVIEW_COLUMNS} FROM pending_review WHERE run_id = $1 ORDER BY created_at`, [runId]);
      return {
        ...runOf(run),
        steps: steps.map(stepOf),
        attempts: attempts.map(attemptOf),
        reviews: reviews.map(reviewOf),
        usage: await runUsage(client, runId),
      };
    },
    async runsInFlight(opts = {}) {
      const now = (opts.now ?? new Date()).toISOString();
      const rows = await client.query(
        `SELECT r.run_id, r.pipeline, r.engine, r.status, r.current_step, r.status_since,
           (EXTRACT(EPOCH FROM ($1::timestamptz - r.status_since)) * 1000)::float8 AS in_state_ms,
           (SELECT (EXTRACT(EPOCH FROM ($1::timestamptz - s.started_at)) * 1000)::float8 FROM pipeline_step s
             WHERE s.run_id = r.run_id AND s.step_path = r.current_step) AS in_step_ms
         FROM pipeline_run r WHERE r.status IN ('running', 'waiting') ORDER BY r.started_at, r.run_id`,
        [now],
      );
      const running = await client.query<{ run_id: string; step_path: string }>(
        `SELECT s.run_id, s.step_path FROM pipeline_step s JOIN pipeline_run r ON r.run_id = s.run_id
         WHERE s.status = 'running' AND r.status IN ('running', 'waiting') ORDER BY s.started_at, s.step_path`,
      );
      return rows.map((row): InFlightRun => {
        const out: InFlightRun = {
          runId: String(row.run_id),
          pipeline: String(row.pipeline),
          engine: String(row.engine),
          status: row.status as InFlightRun['status'],
          runningSteps: running.filter((s) => s.run_id === row.run_id).map((s) => s.step_path),
          statusSince: isoOf(row.status_since)!,
          timeInStateMs: Math.max(0, Math.round(numberOf(row.in_state_ms))),
        };
        if (row.current_step !== null) out.currentStep = String(row.current_step);
        if (row.in_step_ms !== null) out.timeInStepMs = Math.max(0, Math.round(numberOf(row.in_step_ms)));
        return out;
      });
    },
    async failuresByClass(opts = {}) {
      const since = (opts.since ?? startOfIsoWeek(opts.now ?? new Date())).toISOString();
      const until = opts.now ? opts.now.toISOString() : null;
      const rows = await client.query<{ error_class: string; attempts: unknown; runs: unknown }>(
        `SELECT error_class, SUM(attempts)::float8 AS attempts, SUM(runs)::float8 AS runs FROM (
           SELECT error_class, COUNT(*) AS attempts, 0 AS runs FROM stage_attempt
             WHERE status = 'failed' AND finished_at >= $1::timestamptz AND ($2::timestamptz IS NULL OR finished_at <= $2::timestamptz) GROUP BY error_class
           UNION ALL
           SELECT error_class, 0 AS attempts, COUNT(*) AS runs FROM pipeline_run
             WHERE status = 'failed' AND finished_at >= $1::timestamptz AND ($2::timestamptz IS NULL OR finished_at <= $2::timestamptz) GROUP BY error_class
         ) f WHERE error_class IS NOT NULL GROUP BY error_class`,
        [since, until],
      );
      return FAILURE_CLASSES.map((c: FailureClass): FailureCount => {
        const row = rows.find((r) => r.error_class === c);
        return { errorClass: c, failedAttempts: numberOf(row?.attempts), failedRuns: numberOf(row?.runs) };
      });
    },
    async usageByPipeline(opts = {}) {
      return usageByPipeline(client, opts.since ?? startOfIsoWeek(opts.now ?? new Date()), opts.until);
    },
    async tokenUsage(opts) {
      const rows = await client.query(
        `SELECT run_id, pipeline, status, input_tokens::float8 AS input_tokens, output_tokens::float8 AS output_tokens, model_calls,
           (input_tokens * $1::float8 + output_tokens * $2::float8) / 1000000 AS cost_usd
         FROM pipeline_run WHERE ($3::text IS NULL OR run_id = $3) AND ($4::text IS NULL OR pipeline = $4)
         ORDER BY started_at DESC, run_id DESC LIMIT $5`,
        [opts.pricing.inputUsdPerMillion, opts.pricing.outputUsdPerMillion, opts.runId ?? null, opts.pipeline ?? null, opts.limit ?? 100],
      );
      return rows.map((r) => ({
        runId: String(r.run_id),
        pipeline: String(r.pipeline),
        status: String(r.status) as RunState,
        inputTokens: numberOf(r.input_tokens),
        outputTokens: numberOf(r.output_tokens),
        modelCalls: numberOf(r.model_calls),
        costUsd: numberOf(r.cost_usd),
      }));
    },
    async pendingReviews() {
      const rows = await client.query(`SELECT ${REVIEW_COLUMNS} FROM pending_review WHERE decided_at IS NULL ORDER BY created_at, run_id, step_path`);
      return rows.map(reviewOf);
    },
    async getReview(runId, gate) {
      const [row] = await client.query(`SELECT ${REVIEW_COLUMNS} FROM pending_review WHERE run_id = $1 AND gate = $2 ORDER BY created_at DESC LIMIT 1`, [
        runId,
        gate,
      ]);
      return row ? reviewOf(row) : undefined;
    },
    reviewDecisions: (runId) => listDecisions(client, runId),
    close: () => client.close(),
  };
  clients.set(registry, client);
  return registry;
}

/** Monday 00:00 UTC of the week holding `now`. */
export function startOfIsoWeek(now: Date): Date {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d;
}
