import { ConditionalCheckFailedException, GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { silentLogger, type Logger, type ModelBudgets, type TokenUsage } from '@baton/core';
import { type ModelLimiter } from '@baton/core/engine';
import { createMemoryModelLimiter } from '@baton/core';
import {
  ADAPTIVE_DEFAULTS,
  adaptAfterSuccess,
  adaptAfterThrottle,
  budgetWaitMs,
  createStoreQueue,
  INITIAL_ADAPTIVE_STATE,
  DEFAULT_BUDGET_WINDOW_MS,
  validateBudgets,
  WINDOW_MARGIN_SHARE,
  type AdaptiveOptions,
  type AdaptiveState,
  type ModelBudget,
  type ModelPermit,
  type ModelWindow,
  type StoreQueue,
  type WindowEntry,
} from '@baton/core/engine';

/** Options of {@link createDynamoModelLimiter}. */
export interface DynamoModelLimiterOptions {
  client: DynamoDBClient;
  /** A table whose partition key is the string `pk`, with TTL on `expiresAt` (the construct creates it). */
  tableName: string;
  /** Budgets by model id (`ModelClient.modelId`); every function sharing the table should declare the same. */
  budgets: ModelBudgets;
  /** AIMD tuning, or `false` to hold the declared budget. @default ADAPTIVE_DEFAULTS */
  adaptive?: AdaptiveOptions | false;
  /**
   * A permit whose Lambda died (timed out, crashed) lapses from the in-flight count after this long.
   * @default 900000 (15 minutes: no Lambda runs longer)
   */
  leaseMs?: number;
  /** How long one DynamoDB request may take before the limiter falls back to this process's limiter. @default 2000 */
  requestTimeoutMs?: number;
  /** After a failed request, how long calls are limited in this process alone before the table is tried again. @default 30000 */
  retryStoreAfterMs?: number;
  /** Longest sleep between two reads of a model whose budget is spent. @default 1000 */
  pollMs?: number;
  /** Warned once when the table cannot be used (the limiter then limits this process alone). @default silent */
  logger?: Logger;
}

/** A {@link ModelLimiter} in DynamoDB, shared by every Lambda using the same table. */
export interface DynamoModelLimiter extends ModelLimiter {
  acquire(modelId: string, estimate: TokenUsage, options?: { signal?: AbortSignal }): Promise<DynamoModelPermit>;
  /** Waits for the writes of permits that have ended; a Lambda awaits it before returning, since a frozen sandbox sends nothing. */
  flush(): Promise<void>;
  /** The adaptive share of a model's budget in force now (1: all of it), as the table holds it. */
  factor(modelId: string): Promise<number>;
}

/** A permit of {@link DynamoModelLimiter}: `grantedAt` is the time the window counts it from. */
export interface DynamoModelPermit extends ModelPermit {
  grantedAt: number;
  /** `'table'`, or `'fallback'` when the permit came from this process's own limiter (degraded mode). */
  source: 'table' | 'fallback';
}

/** Window entries kept per model item: beyond it the item would near DynamoDB's 400 KB, so the model waits as if full. */
export const MAX_WINDOW_ENTRIES = 8000;

/** Longest sleep while a model's calls in flight are at their cap (no time tells when one ends). */
const IN_FLIGHT_POLL_MS = 100;
/** Compare-and-swap rounds one read-decide-write may take before sleeping. */
const CAS_ROUNDS = 8;

/**
 * Model budgets in DynamoDB, for Lambdas: one item per model holds its sliding window (grant time
 * and tokens of each call), the calls in flight with leases, and the adaptive state (factor, ceiling, epoch). Every change is
 * a read, a decision with core's window and adaptive maths ({@link budgetWaitMs}, {@link adaptAfterSuccess},
 * {@link adaptAfterThrottle}) and an `UpdateItem` conditioned on the version read, so concurrent
 * functions never grant past the budget: a write that lost the race reads again. The item carries
 * a TTL (`expiresAt`): a model unused for ten windows leaves the table. In each process the
 * callers of a model queue first come, first served, and only the head asks the table. Grant
 * times are the functions' clocks; the window's 2 % margin absorbs their skew.
 *
 * Degraded mode: a request that fails (the table unreachable, throttled, access denied) falls back
 * to an in-memory limiter of the same budgets in this process alone, with one warning, and the
 * table is tried again after `retryStoreAfterMs`; nothing waits for DynamoDB longer than
 * `requestTimeoutMs`. A permit whose end could not be written lapses after `leaseMs`.
 *
 * @example
 * ```ts
 * const limiter = createDynamoModelLimiter({
 *   client: new DynamoDBClient({}),
 *   tableName: process.env.BATON_MODEL_BUDGETS_TABLE!,
 *   budgets: { 'anthropic.claude-3-5-haiku-20241022-v1:0': { requestsPerMinute: 400, tokensPerMinute: 400_000 } },
 * });
 * ```
 */
export function createDynamoModelLimiter(options: DynamoModelLimiterOptions): DynamoModelLimiter {
  validateBudgets(options.budgets);
  const { client, tableName } = options;
  const logger = options.logger ?? silentLogger;
  const adaptive = options.adaptive === false ? undefined : { ...ADAPTIVE_DEFAULTS, ...options.adaptive };
  const leaseMs = options.leaseMs ?? 900_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 2000;
  const retryStoreAfterMs = options.retryStoreAfterMs ?? 30_000;
  const pollMs = options.pollMs ?? 1000;
  const fallback = createMemoryModelLimiter({ budgets: options.budgets, ...(options.adaptive === undefined ? {} : { adaptive: options.adaptive }) });
  let warned = false;
  let storeDownUntil = 0;
  const degrade = (e: unknown): void => {
    storeDownUntil = Date.now() + retryStoreAfterMs;
    if (warned) return;
    warned = true;
    const error = e as Error & { $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } };
    // a refusal whose body the SDK could not read still has its HTTP status
    const status = error.$metadata?.httpStatusCode ?? error.$response?.statusCode;
    logger.warn('model limiter: DynamoDB table unusable, limiting this process alone', {
      table: tableName,
      code: error.name,
      error: error.message,
      ...(status ? { httpStatus: status } : {}),
      retryInMs: retryStoreAfterMs,
    });
  };
  const pending = new Set<Promise<void>>();
  const queues = new Map<string, Queue>();
  const send = <T>(command: GetItemCommand | UpdateItemCommand): Promise<T> =>
    client.send(command as GetItemCommand, { abortSignal: AbortSignal.timeout(requestTimeoutMs) }) as Promise<T>;

  const read = async (modelId: string): Promise<Stored> => {
    const out = await send<{ Item?: Record<string, { S?: string; N?: string }> }>(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: keyOf(modelId) } }, ConsistentRead: true }),
    );
    return decode(out.Item);
  };
  /** Writes `next` if the item is still at `prev.v`; false when another function changed it first. */
  const write = async (modelId: string, prev: Stored, next: Stored, span: number): Promise<boolean> => {
    try {
      await send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: { S: keyOf(modelId) } },
          UpdateExpression: 'SET v = :nv, #log = :log, fl = :fl, factor = :factor, ceiling = :ceiling, epoch = :epoch, seq = :seq, expiresAt = :ttl',
          ConditionExpression: 'attribute_not_exists(v) OR v = :v',
          ExpressionAttributeNames: { '#log': 'log' },
          ExpressionAttributeValues: {
            ':v': { N: String(prev.v) },
            ':nv': { N: String(prev.v + 1) },
            ':log': { S: JSON.stringify(next.log) },
            ':fl': { S: JSON.stringify(next.fl) },
            ':factor': { N: String(next.factor) },
            ':ceiling': { N: String(next.ceiling) },
            ':epoch': { N: String(next.epoch) },
            ':seq': { N: String(next.seq) },
            ':ttl': { N: String(Math.ceil((Date.now() + span * 10 + leaseMs) / 1000)) },
          },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as Error).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  };

  /** One try at a grant: a permit id and epoch, or the milliseconds to wait (-1: until a call in flight ends). */
  const tryGrant = async (
    modelId: string,
    budget: ModelBudget,
    span: number,
    estimate: TokenUsage,
  ): Promise<{ id: string; at: number; epoch: number } | { wait: number }> => {
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const stored = await read(modelId);
      const now = Date.now();
      const fl = Object.fromEntries(Object.entries(stored.fl).filter(([, end]) => end > now));
      const window = windowOf(stored, budget, span, Object.keys(fl).length);
      const wait = window.entries.length >= MAX_WINDOW_ENTRIES ? window.entries[0]!.at + span - now : budgetWaitMs(window, estimate, now);
      if (wait === Infinity) return { wait: -1 };
      if (wait > 0) return { wait };
      const id = String(stored.seq + 1);
      const log = [
        ...(window.entries as LoggedEntry[]).map((e) => [e.id, e.at, e.input, e.output] as LogRow),
        [id, now, estimate.inputTokens, estimate.outputTokens] as LogRow,
      ];
      if (await write(modelId, stored, { ...stored, log, fl: { ...fl, [id]: now + leaseMs }, seq: stored.seq + 1 }, span))
        return { id, at: now, epoch: stored.epoch };
    }
    return { wait: 10 + Math.random() * 40 };
  };

  const end = async (modelId: string, budget: ModelBudget, span: number, id: string, epoch: number, kind: EndKind, actual?: TokenUsage): Promise<void> => {
    for (let round = 0; round < CAS_ROUNDS * 4; round++) {
      const stored = await read(modelId);
      const fl = { ...stored.fl };
      delete fl[id];
      const log = stored.log
        .filter((row) => kind !== 'released' || row[0] !== id)
        .map((row): LogRow => {
          if (row[0] !== id) return row;
          if (kind === 'ok') return [row[0], row[1], actual!.inputTokens, actual!.outputTokens];
          return kind === 'failed' ? [row[0], row[1], row[2], 0] : [row[0], row[1], 0, 0];
        });
      let state: AdaptiveState = { factor: stored.factor, ceiling: stored.ceiling, epoch: stored.epoch };
      if (adaptive && kind === 'ok') state = adaptAfterSuccess(state, budget, actual!, adaptive);
      // one cut per round: calls granted before the last cut were sent under the old limit
      if (adaptive && kind === 'throttled') state = adaptAfterThrottle(state, epoch, adaptive);
      if (await write(modelId, stored, { ...stored, log, fl, ...state }, span)) return;
      await sleep(5 + Math.random() * 20);
    }
    throw new Error(`model limiter: the end of permit ${id} of "${modelId}" lost ${CAS_ROUNDS * 4} write races in a row`);
  };

  const permitOf = (
    modelId: string,
    budget: ModelBudget,
    span: number,
    grant: { id: string; at: number; epoch: number },
    queue: Queue,
  ): DynamoModelPermit & { release(): void } => {
    let ended = false;
    const finish = (kind: EndKind, actual?: TokenUsage): void => {
      if (ended) return;
      ended = true;
      const p = end(modelId, budget, span, grant.id, grant.epoch, kind, actual)
        .catch(degrade)
        .finally(() => {
          pending.delete(p);
          queue.wake();
        });
      pending.add(p);
    };
    return {
      grantedAt: grant.at,
      source: 'table',
      settle: (actual) => finish('ok', actual),
      throttled: () => finish('throttled'),
      failed: () => finish('failed'),
      release: () => finish('released'),
    };
  };

  const fromFallback = async (modelId: string, estimate: TokenUsage, signal: AbortSignal | undefined): Promise<DynamoModelPermit> => {
    const permit = await fallback.acquire(modelId, estimate, signal ? { signal } : undefined);
    return { grantedAt: Date.now(), source: 'fallback', settle: (a) => permit.settle(a), throttled: () => permit.throttled(), failed: () => permit.failed() };
  };

  const queueOf = (modelId: string, budget: ModelBudget): Queue => {
    let q = queues.get(modelId);
    if (q) return q;
    const span = (budget.windowMs ?? DEFAULT_BUDGET_WINDOW_MS) * (1 + WINDOW_MARGIN_SHARE);
    const queue: Queue = createStoreQueue<DynamoModelPermit>(async (head) => {
      if (Date.now() < storeDownUntil) {
        fromFallback(modelId, head.estimate, head.signal).then(head.resolve, head.reject);
        return { done: true };
      }
      let res: Awaited<ReturnType<typeof tryGrant>>;
      try {
        res = await tryGrant(modelId, budget, span, head.estimate);
      } catch (e) {
        degrade(e);
        return { sleepMs: 0 };
      }
      if ('id' in res) {
        const permit = permitOf(modelId, budget, span, res, queue);
        // the caller gave up while the grant was being written: hand the budget back
        if (head.signal?.aborted) {
          permit.release();
          head.reject(head.signal.reason);
        } else head.resolve(permit);
        return { done: true };
      }
      // other functions' permits end unseen here: poll, with jitter so they do not read in step
      const base = res.wait < 0 ? IN_FLIGHT_POLL_MS : Math.min(res.wait, pollMs);
      return { sleepMs: base + Math.random() * Math.min(50, base / 4) };
    });
    q = queue;
    queues.set(modelId, q);
    return q;
  };

  return {
    async acquire(modelId, estimate, opts) {
      const budget = options.budgets[modelId];
      if (!budget) return { grantedAt: Date.now(), source: 'table', settle() {}, throttled() {}, failed() {} };
      opts?.signal?.throwIfAborted();
      return queueOf(modelId, budget).acquire(estimate, opts);
    },
    async flush() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async factor(modelId) {
      return (await read(modelId)).factor;
    },
  };
}

/** How a permit ended; `released`: granted to a caller that had given up, so never used. */
type EndKind = 'ok' | 'throttled' | 'failed' | 'released';

/** A window row as stored: permit id, grant time (ms), input and output tokens counted. */
type LogRow = [string, number, number, number];

interface Stored extends AdaptiveState {
  v: number;
  log: LogRow[];
  /** Permit id to lease end (ms). */
  fl: Record<string, number>;
  seq: number;
}

interface LoggedEntry extends WindowEntry {
  id: string;
}

type Queue = StoreQueue<DynamoModelPermit>;

function keyOf(modelId: string): string {
  return `model#${modelId}`;
}

function decode(item: Record<string, { S?: string; N?: string }> | undefined): Stored {
  if (!item) return { v: 0, log: [], fl: {}, ...INITIAL_ADAPTIVE_STATE, seq: 0 };
  return {
    v: Number(item.v?.N ?? 0),
    log: JSON.parse(item.log?.S ?? '[]') as LogRow[],
    fl: JSON.parse(item.fl?.S ?? '{}') as Record<string, number>,
    factor: Number(item.factor?.N ?? 1),
    ceiling: Number(item.ceiling?.N ?? 1),
    epoch: Number(item.epoch?.N ?? 0),
    seq: Number(item.seq?.N ?? 0),
  };
}

/** The stored log as core's window (oldest first: functions' clocks may interleave their writes). */
function windowOf(stored: Stored, budget: ModelBudget, span: number, inFlight: number): ModelWindow {
  const entries: LoggedEntry[] = stored.log
    .map(([id, at, input, output]) => ({ id, at, requests: 1, input, output, expired: false }))
    .sort((a, b) => a.at - b.at);
  const sum = { requests: 0, input: 0, output: 0 };
  for (const e of entries) {
    sum.requests += 1;
    sum.input += e.input;
    sum.output += e.output;
  }
  return { budget, span, entries, sum, inFlight, factor: stored.factor };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
