import { silentLogger, type Logger, type ModelBudgets, type TokenUsage } from '@baton/core';
import { type ModelLimiter } from '@baton/core/engine';
import { createMemoryModelLimiter } from '@baton/core';
import {
  adaptAfterSuccess,
  adaptAfterThrottle,
  ADAPTIVE_DEFAULTS,
  createStoreQueue,
  DEFAULT_BUDGET_WINDOW_MS,
  validateBudgets,
  WINDOW_MARGIN_SHARE,
  type AdaptiveOptions,
  type AdaptiveState,
  type ModelBudget,
  type ModelPermit,
  type StoreQueue,
} from '@baton/core/engine';
import { ACQUIRE_SCRIPT, ADAPT_SCRIPT, SETTLE_SCRIPT } from './model-limiter-scripts.js';
import { DEFAULT_PREFIX, newRedis, redisOptionsOf, type BullmqConnectionOptions } from './options.js';

/** Options of {@link createRedisModelLimiter}. */
export interface RedisModelLimiterOptions extends BullmqConnectionOptions {
  /** Budgets by model id; every worker of the deployment should declare the same. */
  budgets: ModelBudgets;
  /** Adaptive tuning (core's maths, shared by every limiter), or `false` to hold the declared budget. @default ADAPTIVE_DEFAULTS */
  adaptive?: AdaptiveOptions | false;
  /** See `ModelLimiter.throttleRetries`. @default DEFAULT_THROTTLE_RETRIES */
  throttleRetries?: number;
  /**
   * A permit whose worker died lapses from the in-flight count after this long.
   * @default 600000 (10 minutes)
   */
  leaseMs?: number;
  /** How long a call waits for the connection before falling back to this process's limiter. @default 2000 */
  connectTimeoutMs?: number;
  /** Warned when Redis cannot be reached (the limiter then limits this process alone). @default silent */
  logger?: Logger;
}

/** A {@link ModelLimiter} in Redis, shared by every process using the same Redis and prefix. */
export interface RedisModelLimiter extends ModelLimiter {
  /** The adaptive share of a model's budget in force now (1: all of it). */
  factor(modelId: string): Promise<number>;
  /** The model's adaptive state in Redis now (core's `AdaptiveState`). */
  adaptiveState(modelId: string): Promise<AdaptiveState>;
  close(): Promise<void>;
}

/** Longest sleep between two looks at a budget that waits for a call in flight to end. */
const IN_FLIGHT_POLL_MS = 25;
/** Writes of the adaptive state tried before a throttle or success is left uncounted (others kept writing). */
const ADAPT_TRIES = 8;

/**
 * Model budgets in Redis: one sliding window of requests and tokens per model, an in-flight count
 * with leases, and the adaptive state (core's `AdaptiveState`), so every worker process (and every
 * run) draws on the same budget. The window and the grants are two atomic Lua scripts on Redis's
 * own clock; the adaptive state is computed by core's maths (`adaptAfterSuccess`,
 * `adaptAfterThrottle`, the same as every other limiter's) from the state a settle read, and
 * written back only if no other write came in between. In each process the callers of a model
 * wait in core's store queue (round-robin across runs) and only the head asks Redis.
 *
 * Degraded mode: when Redis cannot be reached, calls are limited by an in-memory limiter of the
 * same budgets in this process alone, with a warning; nothing waits for Redis to return.
 *
 * @example
 * ```ts
 * const limiter = createRedisModelLimiter({
 *   connection: 'redis://127.0.0.1:6379',
 *   budgets: { 'anthropic.claude-3-5-haiku-20241022-v1:0': { requestsPerMinute: 400, tokensPerMinute: 400_000 } },
 * });
 * const worker = createBullmqWorker({ connection: 'redis://127.0.0.1:6379', pipelines: [report], model, limiter });
 * ```
 */
export function createRedisModelLimiter(options: RedisModelLimiterOptions): RedisModelLimiter {
  validateBudgets(options.budgets);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const logger = options.logger ?? silentLogger;
  const adaptive = options.adaptive === false ? undefined : { ...ADAPTIVE_DEFAULTS, ...options.adaptive };
  const leaseMs = options.leaseMs ?? 600_000;
  // fail fast instead of queueing commands while Redis is away: the fallback takes over
  const redis = newRedis({ ...redisOptionsOf(options.connection), maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  redis.defineCommand('batonQuotaAcquire', { numberOfKeys: 4, lua: ACQUIRE_SCRIPT });
  redis.defineCommand('batonQuotaSettle', { numberOfKeys: 4, lua: SETTLE_SCRIPT });
  redis.defineCommand('batonQuotaAdapt', { numberOfKeys: 1, lua: ADAPT_SCRIPT });
  type StateReply = [string, string, number, number];
  const scripts = redis as unknown as {
    batonQuotaAcquire(...args: (string | number)[]): Promise<[number, number | string, number?]>;
    batonQuotaSettle(...args: (string | number)[]): Promise<StateReply>;
    batonQuotaAdapt(...args: (string | number)[]): Promise<[1] | [0, ...StateReply]>;
  };
  const fallback = createMemoryModelLimiter({ budgets: options.budgets, ...(options.adaptive === undefined ? {} : { adaptive: options.adaptive }) });
  let warned = false;
  const degrade = (e: unknown): void => {
    if (warned) return;
    warned = true;
    logger.warn('model limiter: Redis unreachable, limiting this process alone', { error: (e as Error).message });
  };
  const queues = new Map<string, StoreQueue<ModelPermit>>();
  let closed = false;
  // commands fail at once while disconnected; a connection still being made is waited for, briefly
  const connectWaitMs = options.connectTimeoutMs ?? 2000;
  const connected = async (): Promise<void> => {
    // once Redis has been unreachable, calls fall back at once instead of each waiting
    if (redis.status === 'ready' || warned) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, connectWaitMs);
      redis.once('ready', done);
      function done(): void {
        clearTimeout(timer);
        redis.off('ready', done);
        resolve();
      }
    });
  };

  const keysOf = (modelId: string): string[] => {
    const base = `${prefix}:quota:{${modelId}}`;
    return [`${base}:entries`, `${base}:amounts`, `${base}:state`, `${base}:inflight`];
  };
  const budgetArgs = (b: ModelBudget): number[] => [
    b.requestsPerMinute ?? 0,
    b.tokensPerMinute ?? 0,
    b.inputTokensPerMinute ?? 0,
    b.outputTokensPerMinute ?? 0,
    b.maxInFlight ?? 0,
  ];

  /** Computes the next adaptive state with core's maths from the one read, and writes it if nobody wrote meanwhile. */
  const adapt = async (modelId: string, read: StateReply, next: (s: AdaptiveState) => AdaptiveState): Promise<void> => {
    let reply = read;
    for (let i = 0; i < ADAPT_TRIES; i++) {
      const state: AdaptiveState = { factor: Number(reply[0]), ceiling: Number(reply[1]), epoch: Number(reply[2]) };
      const after = next(state);
      if (after.factor === state.factor && after.ceiling === state.ceiling && after.epoch === state.epoch) return;
      const res = await scripts.batonQuotaAdapt(keysOf(modelId)[2]!, reply[3], String(after.factor), String(after.ceiling), after.epoch);
      if (res[0] === 1) return;
      reply = res.slice(1) as StateReply;
    }
  };

  const permitOf = (modelId: string, budget: ModelBudget, id: string, epoch: number, queue: StoreQueue<ModelPermit>): ModelPermit => {
    let ended = false;
    const end = (kind: 'ok' | 'throttled' | 'failed', actual?: TokenUsage, latencyMs?: number): void => {
      if (ended) return;
      ended = true;
      scripts
        .batonQuotaSettle(
          ...keysOf(modelId),
          ...budgetArgs(budget),
          id,
          kind,
          actual?.inputTokens ?? 0,
          actual?.outputTokens ?? 0,
          Math.round(latencyMs ?? -1),
          (budget.windowMs ?? DEFAULT_BUDGET_WINDOW_MS) * WINDOW_MARGIN_SHARE,
        )
        .then(async (state) => {
          if (!adaptive) return;
          if (kind === 'ok') await adapt(modelId, state, (s) => adaptAfterSuccess(s, budget, actual!, adaptive));
          else if (kind === 'throttled') await adapt(modelId, state, (s) => adaptAfterThrottle(s, epoch, adaptive));
        })
        .catch(degrade)
        .finally(() => queue.wake());
    };
    return { settle: (actual, timing) => end('ok', actual, timing?.latencyMs), throttled: () => end('throttled'), failed: () => end('failed') };
  };

  const queueOf = (modelId: string, budget: ModelBudget): StoreQueue<ModelPermit> => {
    let q = queues.get(modelId);
    if (q) return q;
    const span = (budget.windowMs ?? DEFAULT_BUDGET_WINDOW_MS) * (1 + WINDOW_MARGIN_SHARE);
    const queue: StoreQueue<ModelPermit> = createStoreQueue<ModelPermit>(async (head) => {
      // a closed limiter leaves nobody waiting for ever
      if (closed) {
        head.reject(new Error('model limiter closed'));
        return { done: true };
      }
      let res: [number, number | string, number?];
      try {
        await connected();
        res = await scripts.batonQuotaAcquire(...keysOf(modelId), ...budgetArgs(budget), span, head.estimate.inputTokens, head.estimate.outputTokens, leaseMs);
      } catch (e) {
        degrade(e);
        fallback.acquire(modelId, head.estimate, head.signal ? { signal: head.signal } : undefined).then(head.resolve, head.reject);
        return { done: true };
      }
      if (res[0] === 1) {
        head.resolve(permitOf(modelId, budget, String(res[1]), Number(res[2] ?? 0), queue));
        return { done: true };
      }
      const wait = Number(res[1]);
      return { sleepMs: wait < 0 ? IN_FLIGHT_POLL_MS : Math.min(wait, IN_FLIGHT_POLL_MS * 40) };
    });
    queues.set(modelId, (q = queue));
    return q;
  };

  return {
    ...(options.throttleRetries === undefined ? {} : { throttleRetries: options.throttleRetries }),
    async acquire(modelId, estimate, opts) {
      const budget = options.budgets[modelId];
      if (!budget) return { settle() {}, throttled() {}, failed() {} };
      opts?.signal?.throwIfAborted();
      return queueOf(modelId, budget).acquire(estimate, opts);
    },
    async factor(modelId) {
      return Number((await redis.hget(keysOf(modelId)[2]!, 'factor')) ?? 1);
    },
    async adaptiveState(modelId) {
      const [factor, ceiling, epoch] = await redis.hmget(keysOf(modelId)[2]!, 'factor', 'ceiling', 'epoch');
      return { factor: Number(factor ?? 1), ceiling: Number(ceiling ?? 1), epoch: Number(epoch ?? 0) };
    },
    async close() {
      closed = true;
      for (const q of queues.values()) q.wake();
      redis.disconnect();
    },
  };
}
