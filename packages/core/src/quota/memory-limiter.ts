import type { TokenUsage } from '../ports/model.js';
import { DEFAULT_BUDGET_WINDOW_MS, validateBudgets, type ModelBudget, type ModelBudgets } from './budget.js';
import { ADAPTIVE_DEFAULTS, WINDOW_MARGIN_SHARE, type AdaptiveOptions, type ModelLimiter, type ModelPermit } from './limiter.js';

/** Options of {@link createMemoryModelLimiter}. */
export interface MemoryModelLimiterOptions {
  budgets: ModelBudgets;
  /** AIMD tuning, or `false` to hold the declared budget whatever the provider says. @default ADAPTIVE_DEFAULTS */
  adaptive?: AdaptiveOptions | false;
}

/** What a limiter holds for one model now (benches and tests read it). */
export interface LimiterSnapshot {
  /** Share of the declared budget in force (1 = all of it; lower after throttles). */
  factor: number;
  inFlight: number;
  /** Callers waiting for budget. */
  waiting: number;
  /** Usage counted in the current window. */
  window: { requests: number; inputTokens: number; outputTokens: number };
}

/** A {@link ModelLimiter} held in this process's memory (the local engine's). */
export interface MemoryModelLimiter extends ModelLimiter {
  snapshot(modelId: string): LimiterSnapshot | undefined;
}

const noopPermit: ModelPermit = { settle() {}, throttled() {}, failed() {} };

/**
 * A limiter in one process's memory: a sliding window per model of requests and tokens, a count
 * in flight, and callers served first come, first served (a large request is not starved by
 * small ones behind it). With `adaptive` (the default), a throttle cuts the model's limit to
 * `decrease` of itself, once per round of calls granted under that limit, and successful calls
 * restore it additively up to the declared budget.
 *
 * @example
 * ```ts
 * const limiter = createMemoryModelLimiter({ budgets: { 'my-model': { requestsPerMinute: 60, tokensPerMinute: 90_000 } } });
 * const engine = createLocalEngine({ pipelines: [report], model, limiter });
 * ```
 */
export function createMemoryModelLimiter(options: MemoryModelLimiterOptions): MemoryModelLimiter {
  validateBudgets(options.budgets);
  const adaptive = options.adaptive === false ? undefined : { ...ADAPTIVE_DEFAULTS, ...options.adaptive };
  const models = new Map<string, ModelState>();
  const stateOf = (modelId: string): ModelState | undefined => {
    const budget = options.budgets[modelId];
    if (!budget) return undefined;
    let s = models.get(modelId);
    if (!s) {
      const windowMs = budget.windowMs ?? DEFAULT_BUDGET_WINDOW_MS;
      s = { budget, span: windowMs * (1 + WINDOW_MARGIN_SHARE), entries: [], sum: { requests: 0, input: 0, output: 0 }, inFlight: 0, factor: 1, epoch: 0, queue: [] };
      models.set(modelId, s);
    }
    return s;
  };

  const grant = (s: ModelState, estimate: TokenUsage): ModelPermit => {
    const entry: WindowEntry = { at: Date.now(), requests: 1, input: estimate.inputTokens, output: estimate.outputTokens, expired: false };
    s.entries.push(entry);
    add(s.sum, entry, 1);
    s.inFlight += 1;
    const epoch = s.epoch;
    let ended = false;
    const end = (input: number, output: number): boolean => {
      if (ended) return false;
      ended = true;
      if (!entry.expired) {
        s.sum.input += input - entry.input;
        s.sum.output += output - entry.output;
      }
      entry.input = input;
      entry.output = output;
      s.inFlight -= 1;
      return true;
    };
    return {
      settle(actual) {
        if (!end(actual.inputTokens, actual.outputTokens)) return;
        if (adaptive) s.factor = factorAfterSuccess(s.factor, s.budget, actual, adaptive);
        pump(s);
      },
      throttled() {
        if (!end(0, 0)) return;
        // throttles of calls granted before the last cut were sent under the old limit: one cut per round
        if (adaptive && epoch === s.epoch) {
          s.factor = factorAfterThrottle(s.factor, adaptive);
          s.epoch += 1;
        }
        pump(s);
      },
      failed() {
        if (end(entry.input, 0)) pump(s);
      },
    };
  };

  const pump = (s: ModelState): void => {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    while (s.queue.length > 0) {
      const head = s.queue[0]!;
      const wait = budgetWaitMs(s, head.estimate, Date.now());
      if (wait > 0) {
        if (Number.isFinite(wait)) s.timer = setTimeout(() => pump(s), Math.ceil(wait));
        return;
      }
      s.queue.shift();
      head.signal?.removeEventListener('abort', head.onAbort);
      head.resolve(grant(s, head.estimate));
    }
  };

  return {
    async acquire(modelId, estimate, opts) {
      const s = stateOf(modelId);
      if (!s) return noopPermit;
      opts?.signal?.throwIfAborted();
      if (s.queue.length === 0 && budgetWaitMs(s, estimate, Date.now()) === 0) return grant(s, estimate);
      return new Promise<ModelPermit>((resolve, reject) => {
        const waiter: Waiter = {
          estimate,
          resolve,
          ...(opts?.signal ? { signal: opts.signal } : {}),
          onAbort: () => {
            s.queue.splice(s.queue.indexOf(waiter), 1);
            reject(opts?.signal?.reason);
            pump(s);
          },
        };
        opts?.signal?.addEventListener('abort', waiter.onAbort, { once: true });
        s.queue.push(waiter);
        pump(s);
      });
    },
    snapshot(modelId) {
      const s = models.get(modelId);
      if (!s) return undefined;
      expire(s, Date.now());
      return {
        factor: s.factor,
        inFlight: s.inFlight,
        waiting: s.queue.length,
        window: { requests: s.sum.requests, inputTokens: s.sum.input, outputTokens: s.sum.output },
      };
    },
  };
}

/** Requests and tokens counted in a window, or by one call. */
export interface WindowUse {
  requests: number;
  input: number;
  output: number;
}

/** One granted call in a sliding window: when it was granted and what it counts for. */
export interface WindowEntry extends WindowUse {
  at: number;
  expired: boolean;
}

/**
 * One model's sliding window as a limiter holds it: the maths below ({@link budgetWaitMs}) runs on
 * it, whether the limiter keeps it in memory or rebuilds it from a shared store each time.
 */
export interface ModelWindow {
  budget: ModelBudget;
  /** The window plus its margin (`windowMs × (1 + WINDOW_MARGIN_SHARE)`). */
  span: number;
  /** Oldest first. */
  entries: WindowEntry[];
  sum: WindowUse;
  inFlight: number;
  /** Share of the declared budget in force (AIMD). */
  factor: number;
}

interface Waiter {
  estimate: TokenUsage;
  resolve: (p: ModelPermit) => void;
  signal?: AbortSignal;
  onAbort: () => void;
}

interface ModelState extends ModelWindow {
  /** Counts limit cuts; a permit remembers the epoch it was granted in. */
  epoch: number;
  queue: Waiter[];
  timer?: NodeJS.Timeout | undefined;
}

function add(sum: WindowUse, u: WindowUse, sign: 1 | -1): void {
  sum.requests += sign * u.requests;
  sum.input += sign * u.input;
  sum.output += sign * u.output;
}

function expire(s: ModelWindow, now: number): void {
  while (s.entries.length > 0 && s.entries[0]!.at + s.span <= now) {
    const e = s.entries.shift()!;
    e.expired = true;
    add(s.sum, e, -1);
  }
}

/** The dimensions of a budget as (limit, amount of a use) pairs. */
function dimensions(b: ModelBudget): [number, (u: WindowUse) => number][] {
  const out: [number, (u: WindowUse) => number][] = [];
  if (b.requestsPerMinute) out.push([b.requestsPerMinute, (u) => u.requests]);
  if (b.tokensPerMinute) out.push([b.tokensPerMinute, (u) => u.input + u.output]);
  if (b.inputTokensPerMinute) out.push([b.inputTokensPerMinute, (u) => u.input]);
  if (b.outputTokensPerMinute) out.push([b.outputTokensPerMinute, (u) => u.output]);
  return out;
}

/**
 * Milliseconds until `estimate` fits the model's limits (0: now; Infinity: when a call in flight
 * ends). A request larger than a whole window's limit fits an empty window, rather than never.
 * Drops the entries that have left the window first (from `entries` and `sum`).
 */
export function budgetWaitMs(s: ModelWindow, estimate: TokenUsage, now: number): number {
  expire(s, now);
  const max = s.budget.maxInFlight;
  if (max !== undefined && s.inFlight >= Math.max(1, Math.floor(max * s.factor))) return Infinity;
  const want: WindowUse = { requests: 1, input: estimate.inputTokens, output: estimate.outputTokens };
  let wait = 0;
  for (const [declared, amount] of dimensions(s.budget)) {
    const limit = declared * s.factor;
    let used = amount(s.sum);
    if (used === 0 || used + amount(want) <= limit) continue;
    for (const e of s.entries) {
      used -= amount(e);
      if (used <= 0 || used + amount(want) <= limit) {
        wait = Math.max(wait, e.at + s.span - now);
        break;
      }
    }
  }
  return wait;
}

/**
 * The adaptive factor after a successful call (additive increase): up by `increasePerWindow` times
 * the share of the declared budget the call used, never above 1.
 */
export function factorAfterSuccess(factor: number, budget: ModelBudget, actual: TokenUsage, adaptive: Required<AdaptiveOptions>): number {
  return Math.min(1, factor + adaptive.increasePerWindow * shareOfBudget(budget, actual));
}

/** The adaptive factor after a throttle (multiplicative decrease), never below `minFactor`. */
export function factorAfterThrottle(factor: number, adaptive: Required<AdaptiveOptions>): number {
  return Math.max(adaptive.minFactor, factor * adaptive.decrease);
}

/** The share of the declared budget one call used: what success restores the limit by. */
function shareOfBudget(b: ModelBudget, actual: TokenUsage): number {
  const u: WindowUse = { requests: 1, input: actual.inputTokens, output: actual.outputTokens };
  let share = 0;
  for (const [declared, amount] of dimensions(b)) share = Math.max(share, amount(u) / declared);
  if (share === 0 && b.maxInFlight) share = 1 / b.maxInFlight;
  return share;
}
