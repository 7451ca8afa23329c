import { silentLogger, type Logger, type ModelBudgets, type ModelLimiter, type TokenUsage } from '@baton/core';
import {
  ADAPTIVE_DEFAULTS,
  createMemoryModelLimiter,
  DEFAULT_BUDGET_WINDOW_MS,
  validateBudgets,
  WINDOW_MARGIN_SHARE,
  type AdaptiveOptions,
  type ModelBudget,
  type ModelPermit,
} from '@baton/core/engine';
import { Redis } from 'ioredis';
import { ACQUIRE_SCRIPT, SETTLE_SCRIPT } from './model-limiter-scripts.js';
import { DEFAULT_PREFIX, redisOptionsOf, type BullmqConnectionOptions } from './options.js';

/** Options of {@link createRedisModelLimiter}. */
export interface RedisModelLimiterOptions extends BullmqConnectionOptions {
  /** Budgets by model id; every worker of the deployment should declare the same. */
  budgets: ModelBudgets;
  /** AIMD tuning, or `false` to hold the declared budget. @default ADAPTIVE_DEFAULTS */
  adaptive?: AdaptiveOptions | false;
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
  close(): Promise<void>;
}

/** Longest sleep between two looks at a budget that waits for a call in flight to end. */
const IN_FLIGHT_POLL_MS = 25;

/**
 * Model budgets in Redis: one sliding window of requests and tokens per model, an in-flight count
 * with leases, and the AIMD factor, all read and written by two atomic Lua scripts on Redis's own
 * clock, so every worker process (and every run) draws on the same budget. In each process the
 * callers of a model queue first come, first served, and only the head asks Redis.
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
  const redis = new Redis({ ...redisOptionsOf(options.connection), maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  redis.defineCommand('batonQuotaAcquire', { numberOfKeys: 4, lua: ACQUIRE_SCRIPT });
  redis.defineCommand('batonQuotaSettle', { numberOfKeys: 4, lua: SETTLE_SCRIPT });
  const scripts = redis as unknown as {
    batonQuotaAcquire(...args: (string | number)[]): Promise<[number, number | string, number?]>;
    batonQuotaSettle(...args: (string | number)[]): Promise<number>;
  };
  const fallback = createMemoryModelLimiter({ budgets: options.budgets, ...(options.adaptive === undefined ? {} : { adaptive: options.adaptive }) });
  let warned = false;
  const degrade = (e: unknown): void => {
    if (warned) return;
    warned = true;
    logger.warn('model limiter: Redis unreachable, limiting this process alone', { error: (e as Error).message });
  };
  const queues = new Map<string, Queue>();
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

  const permitOf = (modelId: string, budget: ModelBudget, id: string, epoch: number, queue: Queue): ModelPermit => {
    let ended = false;
    const end = (kind: 'ok' | 'throttled' | 'failed', actual?: TokenUsage): void => {
      if (ended) return;
      ended = true;
      const args = [id, kind, actual?.inputTokens ?? 0, actual?.outputTokens ?? 0, epoch, adaptive?.increasePerWindow ?? 0, adaptive?.decrease ?? 0, adaptive?.minFactor ?? 0];
      scripts
        .batonQuotaSettle(...keysOf(modelId), ...budgetArgs(budget), ...args)
        .catch(degrade)
        .finally(() => queue.wake());
    };
    return { settle: (actual) => end('ok', actual), throttled: () => end('throttled'), failed: () => end('failed') };
  };

  const queueOf = (modelId: string, budget: ModelBudget): Queue => {
    let q = queues.get(modelId);
    if (q) return q;
    const span = (budget.windowMs ?? DEFAULT_BUDGET_WINDOW_MS) * (1 + WINDOW_MARGIN_SHARE);
    const waiters: Waiter[] = [];
    let running = false;
    let wakeUp: (() => void) | undefined;
    const sleep = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done(): void {
          clearTimeout(timer);
          wakeUp = undefined;
          resolve();
        }
        wakeUp = done;
      });
    const loop = async (): Promise<void> => {
      running = true;
      try {
        while (waiters.length > 0 && !closed) {
          const head = waiters[0]!;
          if (head.signal?.aborted) {
            waiters.shift();
            head.reject(head.signal.reason);
            continue;
          }
          let res: [number, number | string, number?];
          try {
            await connected();
            res = await scripts.batonQuotaAcquire(...keysOf(modelId), ...budgetArgs(budget), span, head.estimate.inputTokens, head.estimate.outputTokens, leaseMs);
          } catch (e) {
            degrade(e);
            waiters.shift();
            fallback.acquire(modelId, head.estimate, head.signal ? { signal: head.signal } : undefined).then(head.resolve, head.reject);
            continue;
          }
          if (res[0] === 1) {
            waiters.shift();
            head.resolve(permitOf(modelId, budget, String(res[1]), Number(res[2] ?? 0), q!));
            continue;
          }
          const wait = Number(res[1]);
          await sleep(wait < 0 ? IN_FLIGHT_POLL_MS : Math.min(wait, IN_FLIGHT_POLL_MS * 40));
        }
        // a closed limiter leaves nobody waiting for ever
        if (closed) for (const w of waiters.splice(0)) w.reject(new Error('model limiter closed'));
      } finally {
        running = false;
      }
    };
    q = {
      add(w) {
        waiters.push(w);
        w.signal?.addEventListener('abort', () => wakeUp?.(), { once: true });
        if (!running) void loop();
      },
      wake: () => wakeUp?.(),
    };
    queues.set(modelId, q);
    return q;
  };

  return {
    async acquire(modelId, estimate, opts) {
      const budget = options.budgets[modelId];
      if (!budget) return { settle() {}, throttled() {}, failed() {} };
      opts?.signal?.throwIfAborted();
      return new Promise<ModelPermit>((resolve, reject) => {
        queueOf(modelId, budget).add({ estimate, resolve, reject, ...(opts?.signal ? { signal: opts.signal } : {}) });
      });
    },
    async factor(modelId) {
      return Number((await redis.hget(keysOf(modelId)[2]!, 'factor')) ?? 1);
    },
    async close() {
      closed = true;
      for (const q of queues.values()) q.wake();
      redis.disconnect();
    },
  };
}

interface Waiter {
  estimate: TokenUsage;
  resolve: (p: ModelPermit) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
}

interface Queue {
  add(w: Waiter): void;
  /** Ends the head's sleep: a permit of this process ended, or a waiter gave up. */
  wake(): void;
}
