import { createMemoryModelLimiter, isStageError, silentLogger, StageError, type Logger, type ModelBudgets, type TokenUsage } from '@baton/core';
import {
  adaptAfterSuccess,
  adaptAfterThrottle,
  ADAPTIVE_DEFAULTS,
  budgetWaitMs,
  createStoreQueue,
  DEFAULT_BUDGET_WINDOW_MS,
  validateBudgets,
  WINDOW_MARGIN_SHARE,
  type AdaptiveOptions,
  type AdaptiveState,
  type ModelBudget,
  type ModelLimiter,
  type ModelPermit,
  type ModelWindow,
  type StoreQueue,
} from '@baton/core/engine';
import type pg from 'pg';
import { migrate } from './migrate.js';
import { END_PERMIT, GRANT, LOCK_MODEL, MODEL_QUOTA_MIGRATIONS, READ_WINDOW, SET_ADAPTIVE } from './model-limiter-sql.js';
import { createPostgresClient } from './postgres.js';
import { numberOf, type SqlClient } from './sql.js';

/** Options of {@link createPostgresModelLimiter}. */
export interface PostgresModelLimiterOptions {
  /** Budgets by model id; every worker sharing the database should declare the same. */
  budgets: ModelBudgets;
  /** A pool to use; the limiter leaves it open on `close()`. */
  pool?: pg.Pool;
  /** `postgres://user@host:port/db` when no `pool`. @default process.env.DATABASE_URL */
  connectionString?: string;
  /** Keep the limiter's tables in this schema (created if missing). @default the connection's search_path */
  schema?: string;
  /** Connections of the limiter's own pool. @default 10 */
  maxConnections?: number;
  /** AIMD tuning, or `false` to hold the declared budget. @default ADAPTIVE_DEFAULTS */
  adaptive?: AdaptiveOptions | false;
  /** A permit whose worker died lapses from the in-flight count after this long. @default 600000 (10 minutes) */
  leaseMs?: number;
  /** How long opening a connection may take before the call falls back to this process's limiter. @default 2000 */
  connectTimeoutMs?: number;
  /** Once the database failed, calls use the in-process fallback this long before it is tried again. @default 5000 */
  retryAfterMs?: number;
  /**
   * Longest sleep of a waiting caller before it looks at the window again: another process's calls
   * ending below their estimate free budget early, and only this process's own wake it at once.
   * @default 250
   */
  pollMs?: number;
  /** Warned (once) when the database cannot be used. @default silent */
  logger?: Logger;
}

/** A {@link ModelLimiter} in PostgreSQL, shared by every process using the same database. */
export interface PostgresModelLimiter extends ModelLimiter {
  /** The adaptive share of a model's budget in force now (1: all of it). */
  factor(modelId: string): Promise<number>;
  /** Rejects calls still waiting, writes the permits ended so far, closes its own pool. */
  close(): Promise<void>;
}

/** Sleep between two looks at a budget whose calls in flight are all taken. */
const IN_FLIGHT_POLL_MS = 50;

/**
 * Model budgets in PostgreSQL: the sliding window of requests and tokens per model (one row per
 * permit), an in-flight count with leases, and core's adaptive state (factor, ceiling, epoch), on
 * the database's clock.
 * Acquiring is one short transaction that locks the model's row (so concurrent limiters take
 * turns), drops expired permits, and grants only if the estimate fits every limit (core's
 * `budgetWaitMs`); ending a permit records the actual usage (placed with the provider's latency as
 * core's `receivedEntryAt` does) and, under the same row lock, adapts the state with core's
 * `adaptAfterSuccess` / `adaptAfterThrottle` (one cut per round of calls; regrowth fast to just
 * under the ceiling, then probing), as every limiter does. In each process the callers of a model
 * wait in core's store queue (round-robin across runs), and only the head asks the database. SQL
 * is parameterised throughout.
 *
 * Degraded mode: when the database cannot be reached (or refuses the limiter), calls are limited
 * by an in-memory limiter of the same budgets in this process alone, with one warning
 * (`PostgreSQL unreachable`, or `PostgreSQL failed` for any other error); nothing waits for the
 * database to return, which is tried again after `retryAfterMs`.
 *
 * @example
 * ```ts
 * const limiter = createPostgresModelLimiter({
 *   connectionString: process.env.DATABASE_URL,
 *   budgets: { 'anthropic.claude-3-5-haiku-20241022-v1:0': { requestsPerMinute: 400, tokensPerMinute: 400_000 } },
 * });
 * const worker = await createTemporalWorker({ taskQueue: 'reports', pipelines: [report], model, limiter });
 * ```
 */
export function createPostgresModelLimiter(options: PostgresModelLimiterOptions): PostgresModelLimiter {
  validateBudgets(options.budgets);
  if (!options.pool && !options.connectionString && !process.env.DATABASE_URL) {
    throw new StageError('ConfigurationError', 'createPostgresModelLimiter needs a pool or a connectionString (or DATABASE_URL)', { retryable: false });
  }
  const logger = options.logger ?? silentLogger;
  const adaptive = options.adaptive === false ? undefined : { ...ADAPTIVE_DEFAULTS, ...options.adaptive };
  const leaseMs = options.leaseMs ?? 600_000;
  const retryAfterMs = options.retryAfterMs ?? 5000;
  const pollMs = options.pollMs ?? 250;
  const fallback = createMemoryModelLimiter({ budgets: options.budgets, ...(options.adaptive === undefined ? {} : { adaptive: options.adaptive }) });
  const warned = new Set<string>();
  let degradedUntil = 0;
  const degrade = (e: unknown): void => {
    degradedUntil = Date.now() + retryAfterMs;
    // connection failures are typed by the registry's client; anything else (a refused role, a
    // broken schema) is said as such, so that a fault of the database is not taken for an outage
    const why = isStageError(e) && e.code === 'ServiceUnavailableException' ? 'unreachable' : 'failed';
    if (warned.has(why)) return;
    warned.add(why);
    logger.warn(`model limiter: PostgreSQL ${why}, limiting this process alone`, { error: (e as Error).message });
  };

  let client: Promise<SqlClient> | undefined;
  let migrated: Promise<unknown> | undefined;
  const ready = async (): Promise<SqlClient> => {
    client ??= createPostgresClient({
      ...(options.pool ? { pool: options.pool } : {}),
      ...(options.connectionString ? { connectionString: options.connectionString } : {}),
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}),
      connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
    }).catch((e: unknown) => {
      client = undefined;
      throw e;
    });
    const c = await client;
    migrated ??= migrate(c, MODEL_QUOTA_MIGRATIONS).catch((e: unknown) => {
      migrated = undefined;
      throw e;
    });
    await migrated;
    return c;
  };

  const queues = new Map<string, Queue>();
  const settling = new Set<Promise<unknown>>();
  let closed = false;

  const tryAcquire = async (modelId: string, budget: ModelBudget, span: number, estimate: TokenUsage): Promise<Grant | { wait: number }> =>
    (await ready()).transaction(async (tx) => {
      const [quota] = await tx.query<{ factor: unknown; ceiling: unknown; epoch: unknown }>(LOCK_MODEL, [modelId]);
      const rows = await tx.query<WindowRow>(READ_WINDOW, [modelId, span]);
      const now = numberOf(rows[0]!.now_ms);
      const wait = budgetWaitMs(windowOf(budget, span, numberOf(quota!.factor), rows), estimate, now);
      if (wait !== 0) return { wait };
      const [granted] = await tx.query<{ id: unknown }>(GRANT, [modelId, now, estimate.inputTokens, estimate.outputTokens, leaseMs]);
      return { id: String(granted!.id), epoch: numberOf(quota!.epoch) };
    });

  /** Ends a permit; with `adaptive`, adapts the model's factor with core's AIMD maths under the model's row lock. */
  const endPermit = async (
    modelId: string,
    budget: ModelBudget,
    grant: Grant,
    kind: 'ok' | 'throttled' | 'failed',
    actual?: TokenUsage,
    latencyMs?: number,
  ): Promise<void> => {
    const c = await ready();
    const margin = Math.round((budget.windowMs ?? DEFAULT_BUDGET_WINDOW_MS) * WINDOW_MARGIN_SHARE);
    const ended = [modelId, grant.id, kind, actual?.inputTokens ?? 0, actual?.outputTokens ?? 0, Math.round(latencyMs ?? -1), margin];
    if (!adaptive || kind === 'failed') {
      await c.query(END_PERMIT, ended);
      return;
    }
    await c.transaction(async (tx) => {
      const [quota] = await tx.query<{ factor: unknown; ceiling: unknown; epoch: unknown }>(LOCK_MODEL, [modelId]);
      await tx.query(END_PERMIT, ended);
      const state: AdaptiveState = { factor: numberOf(quota!.factor), ceiling: numberOf(quota!.ceiling), epoch: numberOf(quota!.epoch) };
      // core's maths, as every limiter: a throttle of a call granted before the last cut changes nothing
      const next = kind === 'ok' ? adaptAfterSuccess(state, budget, actual!, adaptive) : adaptAfterThrottle(state, grant.epoch, adaptive);
      if (next === state) return;
      await tx.query(SET_ADAPTIVE, [modelId, next.factor, next.ceiling, next.epoch]);
    });
  };

  const permitOf = (modelId: string, budget: ModelBudget, grant: Grant, queue: Queue): ModelPermit => {
    let ended = false;
    const end = (kind: 'ok' | 'throttled' | 'failed', actual?: TokenUsage, latencyMs?: number): void => {
      if (ended) return;
      ended = true;
      const done: Promise<unknown> = endPermit(modelId, budget, grant, kind, actual, latencyMs)
        .catch(degrade)
        .finally(() => {
          settling.delete(done);
          queue.wake();
        });
      settling.add(done);
    };
    return { settle: (actual, timing) => end('ok', actual, timing?.latencyMs), throttled: () => end('throttled'), failed: () => end('failed') };
  };

  const queueOf = (modelId: string, budget: ModelBudget): Queue => {
    const existing = queues.get(modelId);
    if (existing) return existing;
    const span = Math.ceil((budget.windowMs ?? DEFAULT_BUDGET_WINDOW_MS) * (1 + WINDOW_MARGIN_SHARE));
    const queue: Queue = createStoreQueue<ModelPermit>(async (head) => {
      // a closed limiter leaves nobody waiting for ever
      if (closed) {
        head.reject(new Error('model limiter closed'));
        return { done: true };
      }
      if (Date.now() < degradedUntil) {
        fallback.acquire(modelId, head.estimate, head.signal ? { signal: head.signal } : undefined).then(head.resolve, head.reject);
        return { done: true };
      }
      let res: Grant | { wait: number };
      try {
        res = await tryAcquire(modelId, budget, span, head.estimate);
      } catch (e) {
        degrade(e); // the head goes to the fallback on its next turn
        return { sleepMs: 0 };
      }
      if ('id' in res) {
        head.resolve(permitOf(modelId, budget, res, queue));
        return { done: true };
      }
      // Infinity: until a call in flight ends (maybe in another process, which cannot wake this one)
      return { sleepMs: Number.isFinite(res.wait) ? Math.min(res.wait, pollMs) : Math.min(IN_FLIGHT_POLL_MS, pollMs) };
    });
    queues.set(modelId, queue);
    return queue;
  };

  return {
    async acquire(modelId, estimate, opts) {
      const budget = options.budgets[modelId];
      if (!budget) return { settle() {}, throttled() {}, failed() {} };
      opts?.signal?.throwIfAborted();
      if (closed) throw new Error('model limiter closed');
      return queueOf(modelId, budget).acquire(estimate, opts);
    },
    async factor(modelId) {
      const rows = await (await ready()).query<{ factor: unknown }>('SELECT factor FROM baton_model_quota WHERE model = $1', [modelId]);
      return rows[0] ? numberOf(rows[0].factor) : 1;
    },
    async close() {
      closed = true;
      for (const q of queues.values()) q.wake();
      await Promise.all([...settling]);
      const c = await client?.catch(() => undefined);
      client = undefined;
      await c?.close();
    },
  };
}

interface Grant {
  id: string;
  epoch: number;
}

interface WindowRow {
  now_ms: unknown;
  granted_ms: unknown;
  input_tokens: unknown;
  output_tokens: unknown;
  in_flight: boolean;
  in_window: boolean;
}

type Queue = StoreQueue<ModelPermit>;

/** The model's window as core's maths reads it, from the permits read from the database (oldest first). */
function windowOf(budget: ModelBudget, span: number, factor: number, rows: WindowRow[]): ModelWindow {
  const window: ModelWindow = { budget, span, entries: [], sum: { requests: 0, input: 0, output: 0 }, inFlight: 0, factor };
  for (const r of rows) {
    if (r.granted_ms === null) continue; // the clock row of a model without permits
    if (r.in_flight) window.inFlight += 1;
    // a permit in flight past the window still counts in flight, no longer in the window
    if (!r.in_window) continue;
    const entry = { at: numberOf(r.granted_ms), requests: 1, input: numberOf(r.input_tokens), output: numberOf(r.output_tokens), expired: false };
    window.entries.push(entry);
    window.sum.requests += 1;
    window.sum.input += entry.input;
    window.sum.output += entry.output;
  }
  return window;
}
