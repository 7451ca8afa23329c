// Model-quota-aware flow control vs plain concurrency caps, side by side in one run.
//   npm run bench:quota          (starts its own redis-server for BullMQ; or set REDIS_URL)
//   ENGINES=local,bullmq SECTIONS=200 WINDOW_MS=6000 to choose
// A local Bedrock server (the project's Converse wire-format stand-in, real AWS SDK client) enforces
// a sliding-window quota of requests and tokens, as Bedrock counts them (input + maxTokens reserved
// on arrival, corrected to the actual usage on completion), answers 429 ThrottlingException above
// it, and takes time proportional to the output tokens. The workload is a report of SECTIONS
// sections, one model call each, under the report's retry policy (scaled to the window).
// Lines, per engine: a concurrency cap of 4, 16 and 64 with no limiter; Baton's adaptive limiter
// with the budget declared as the server's quota; the same limiter when the server's quota is
// halved mid-run (declared budget unchanged: the limiter must find it); two runs of SECTIONS / 2
// sections sharing the quota, started one after the other (each run's share of the tokens served
// while both ran). LINES=caps,adaptive,halved,fair to choose. Engines are entries of ENGINE_ENTRIES (local; BullMQ with three workers,
// each with its own Redis limiter connection, in this process; temporal, not run by default: three
// workers with their own PostgreSQL limiters, see bench/quota-temporal.ts, the `temporal` binary on
// PATH): a new engine is one more entry.
// The "minute" is WINDOW_MS so that a run takes seconds; every figure is a ratio to it, and "30 s
// of model time" is WINDOW_MS / 2.
// Ideal makespan: a sliding window lets at most one window's quota arrive in any window, so over
// [0, L] at most quota x (floor(L / W) + 1) (summing the quota in force at each window's start):
// the ideal is the shortest L whose capacity holds the requests and tokens served, plus one call's
// latency. The fluid figure Q x (1 + L / W) of the first version of this bench (a token bucket's) is
// printed beside it as makespan/fluid: no schedule can reach it against a sliding window.
import { z } from 'zod';
import {
  StageError,
  createLocalEngine,
  createMemoryBlobStore,
  definePipeline,
  defineStage,
  type AnyPipeline,
  type Engine,
  type ModelBudgets,
  type ModelClient,
  type ModelRequest,
  type PriceTable,
  type RunInfo,
} from '@baton/core';
import { type ModelLimiter } from '@baton/core/engine';
import { createMemoryModelLimiter } from '@baton/core';
import { estimateUsage } from '@baton/core/engine';
import { createBedrockModel } from '../packages/stages/src/models/bedrock.js';
import { startLocalBedrock } from '../packages/stages/src/models/local-bedrock.js';
import {
  createBullmqEngine,
  createBullmqWorker,
  createRedisModelLimiter,
  type BullmqWorker,
  type RedisModelLimiter,
} from '../packages/adapter-bullmq/src/index.js';
import { startRedis, type RedisServer } from '../packages/adapter-bullmq/test/redis.js';

const SECTIONS = Number(process.env.SECTIONS ?? 200);
// 6 s: the limiter's window margin (2%, 120 ms) stays above this one process's event-loop lag at 200 calls
const WINDOW_MS = Number(process.env.WINDOW_MS ?? 6000);
const QUOTA = { requests: 80, tokens: 40_000 };
const MODEL_ID = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const MS_PER_OUTPUT_TOKEN = 1;
const ENGINES = (process.env.ENGINES ?? 'local,bullmq').split(',');
/** Which lines to run: caps, adaptive, halved, fair. */
const LINES = (process.env.LINES ?? 'caps,adaptive,halved,fair').split(',');

// ---- the provider: a sliding-window quota, as the server counts it --------------------------------

interface Reservation {
  at: number;
  tokens: number;
}

/** One call the server received. */
interface Received {
  at: number;
  throttled: boolean;
}

interface Provider extends ModelClient {
  received: Received[];
  served: number;
  tokensServed: number;
  /** Quota in force: requests and tokens per window. */
  quota: { requests: number; tokens: number };
  reset(): void;
}

function quotaProvider(): Provider {
  let window: Reservation[] = [];
  const p: Provider = {
    modelId: MODEL_ID,
    received: [],
    served: 0,
    tokensServed: 0,
    quota: { ...QUOTA },
    reset() {
      window = [];
      p.received = [];
      p.served = p.tokensServed = 0;
      p.quota = { ...QUOTA };
    },
    async complete(request: ModelRequest) {
      const now = Date.now();
      window = window.filter((r) => r.at + WINDOW_MS > now);
      const inputTokens = estimateUsage(request).inputTokens;
      const reserve: Reservation = { at: now, tokens: inputTokens + (request.maxTokens ?? 1024) };
      const used = window.reduce((n, r) => n + r.tokens, 0);
      const throttled = window.length + 1 > p.quota.requests || used + reserve.tokens > p.quota.tokens;
      p.received.push({ at: now, throttled });
      if (throttled) throw new StageError('ThrottlingException', 'Too many tokens, please wait before trying again.');
      window.push(reserve);
      // deterministic output length per prompt: 150 to 349 tokens
      const outputTokens = 150 + ((request.messages[0]!.content.length * 7919) % 200);
      await new Promise((r) => setTimeout(r, 20 + outputTokens * MS_PER_OUTPUT_TOKEN));
      reserve.tokens = inputTokens + outputTokens;
      p.served += 1;
      p.tokensServed += reserve.tokens;
      return { text: 'w '.repeat(outputTokens), usage: { inputTokens, outputTokens }, latencyMs: 20 + outputTokens, modelId: MODEL_ID };
    },
  };
  return p;
}

// ---- the workload ---------------------------------------------------------------------------------

/** Callers waiting per run, and each grant with the runs that had callers waiting then (every engine of this bench runs its stages in this process). */
const waitingByRun = new Map<string, number>();
const grants: { runId: string; tokens: number; contended: string[] }[] = [];

/** A limiter that tells the bench who waits and who gets a permit; the permits are the limiter's. */
function observe<T extends ModelLimiter>(limiter: T): T {
  const wrapped = Object.create(limiter) as T;
  wrapped.acquire = async (modelId, estimate, options) => {
    const run = options?.runId ?? '';
    waitingByRun.set(run, (waitingByRun.get(run) ?? 0) + 1);
    try {
      const permit = await limiter.acquire(modelId, estimate, options);
      // the runs with callers waiting when this one got its permit (itself included)
      grants.push({ runId: run, tokens: estimate.inputTokens + estimate.outputTokens, contended: [...waitingByRun].filter(([, n]) => n > 0).map(([r]) => r) });
      return permit;
    } finally {
      waitingByRun.set(run, waitingByRun.get(run)! - 1);
    }
  };
  return wrapped;
}

const writeSection = defineStage({
  name: 'write-section',
  version: 1,
  input: z.object({ n: z.number() }),
  output: z.object({ words: z.number() }),
  // the report's generate policy, in window time (2 s of a minute is WINDOW_MS / 30)
  retry: [{ errors: ['ThrottlingException'], intervalMs: Math.round(WINDOW_MS / 30), backoffRate: 2, maxAttempts: 8, jitter: 'FULL', maxDelayMs: WINDOW_MS }],
  timeoutMs: 600_000,
  async run(input, ctx) {
    const prompt = `Write section ${input.n} of the report from its sources. `.repeat(24 + (input.n % 8));
    const res = await ctx.model.complete({ messages: [{ role: 'user', content: prompt }], maxTokens: 400 });
    return { words: res.text.length / 2 };
  },
});

function reportPipeline(name: string, maxConcurrency: number): AnyPipeline {
  return (
    definePipeline({ name, version: 1, input: z.array(z.object({ n: z.number() })) })
      // a section out of retries is reported, not the end of the bench
      .map('sections', { items: '$', maxConcurrency, toleratedFailurePercentage: 100 }, (b) => b.task('write', writeSection))
      .build()
  );
}

const CAPS = [4, 16, 64];
const pipelines = [...CAPS.map((c) => reportPipeline(`cap-${c}`, c)), reportPipeline('adaptive', 200)];
const budgets: ModelBudgets = { [MODEL_ID]: { requestsPerMinute: QUOTA.requests, tokensPerMinute: QUOTA.tokens, windowMs: WINDOW_MS } };
const prices: PriceTable = { [MODEL_ID]: { inputPer1M: 0.8, outputPer1M: 4 } };
/** One call's latency at the median output: the last call must be answered too. */
const LAST_CALL_MS = 20 + 250 * MS_PER_OUTPUT_TOKEN;

// ---- engines --------------------------------------------------------------------------------------

/** One line's engine: with Baton's limiter (`limited`) or without, fresh for the line. */
interface Round {
  engine: Engine;
  close(): Promise<void>;
}

/** What an engine entry builds its engines from. Every limiter it makes goes through `observe`. */
interface EngineContext {
  pipelines: AnyPipeline[];
  model: ModelClient;
  prices: PriceTable;
  budgets: ModelBudgets;
  /** Wraps a limiter so the bench sees each run's waits and grants (the fairness line). */
  observe<T extends ModelLimiter>(limiter: T): T;
}

/** An engine of the bench: its servers started once, then a fresh engine per line. */
interface EngineEntry {
  name: string;
  start(ctx: EngineContext): Promise<{ make(limited: boolean): Promise<Round>; close(): Promise<void> }>;
}

const ENGINE_ENTRIES: EngineEntry[] = [
  {
    name: 'local',
    async start(ctx) {
      return {
        async make(limited) {
          const limiter: ModelLimiter | undefined = limited ? ctx.observe(createMemoryModelLimiter({ budgets: ctx.budgets })) : undefined;
          const engine = createLocalEngine({ pipelines: ctx.pipelines, model: ctx.model, prices: ctx.prices, ...(limiter ? { limiter } : {}) });
          return { engine, close: () => engine.close() };
        },
        close: async () => undefined,
      };
    },
  },
  {
    name: 'bullmq',
    async start(ctx) {
      const redis: RedisServer | undefined = process.env.REDIS_URL ? undefined : await startRedis();
      const url = process.env.REDIS_URL ?? redis!.url;
      let round = 0;
      return {
        async make(limited) {
          const prefix = `quota-bench-${process.pid}-${round++}`;
          const blobs = createMemoryBlobStore();
          const limiters: RedisModelLimiter[] = [];
          const limiterOf = (): { limiter?: ModelLimiter } => {
            if (!limited) return {};
            const l = ctx.observe(createRedisModelLimiter({ connection: url, prefix, budgets: ctx.budgets }));
            limiters.push(l);
            return { limiter: l };
          };
          const common = { connection: url, prefix, pipelines: ctx.pipelines, blobs, model: ctx.model, prices: ctx.prices };
          const engine = createBullmqEngine({ ...common, ...limiterOf() });
          const workers: BullmqWorker[] = [1, 2].map(() => createBullmqWorker({ ...common, ...limiterOf() }));
          await Promise.all(workers.map((w) => w.ready));
          return {
            engine,
            async close() {
              await Promise.all(workers.map((w) => w.close()));
              await engine.close();
              await Promise.all(limiters.map((l) => l.close()));
            },
          };
        },
        close: async () => void (await redis?.close()),
      };
    },
  },
  {
    name: 'temporal',
    async start(ctx) {
      const { startTemporalQuotaBench } = await import('./quota-temporal.js');
      return startTemporalQuotaBench(ctx);
    },
  },
];

// ---- measuring --------------------------------------------------------------------------------------

interface Line {
  engine: string;
  limiter: string;
  makespanMs: number;
  utilisation: number;
  throttled: number;
  /** Makespan ÷ the sliding window's ideal. */
  ideal: number;
  /** Makespan ÷ the fluid ideal of the first version (unreachable against a sliding window). */
  fluid: number;
  attempts: number;
  /** Sections that ran out of retries. */
  failed: number;
  cost: number;
  /** Halved line: when the first throttle after the halving came, and the throttled share in the 30 s (model time) after it and after those. */
  halving?: { foundMs: number; first30: number; after30: number };
}

/** The quota in force at `t` ms from the start. */
type QuotaAt = (t: number) => { requests: number; tokens: number };

/**
 * The shortest makespan any schedule has against a sliding window that served `requests` and
 * `tokens`: each window [kW, (k+1)W) lets in at most the quota in force at kW.
 */
function idealMs(quotaAt: QuotaAt, requests: number, tokens: number): number {
  let r = 0;
  let t = 0;
  for (let k = 0; ; k++) {
    const q = quotaAt(k * WINDOW_MS);
    r += q.requests;
    t += q.tokens;
    if (r >= requests && t >= tokens) return k * WINDOW_MS + LAST_CALL_MS;
  }
}

/** The first version's ideal: a token bucket's, quota × (1 + L / W) over L. */
function fluidIdealMs(halveAtMs: number | undefined, needed: number): number {
  const capacityAtHalving = halveAtMs === undefined ? Infinity : QUOTA.tokens * (1 + halveAtMs / WINDOW_MS);
  return (
    (needed <= capacityAtHalving
      ? Math.max(0, needed / QUOTA.tokens - 1) * WINDOW_MS
      : halveAtMs! + ((needed - capacityAtHalving) / (QUOTA.tokens / 2)) * WINDOW_MS) + LAST_CALL_MS
  );
}

const throttledShare = (calls: Received[]): number => (calls.length === 0 ? 0 : calls.filter((c) => c.throttled).length / calls.length);

async function measure(engine: Engine, engineName: string, label: string, provider: Provider, halveAtMs?: number): Promise<Line> {
  provider.reset();
  const items = Array.from({ length: SECTIONS }, (_, n) => ({ n }));
  const started = Date.now();
  const halved = { requests: QUOTA.requests / 2, tokens: QUOTA.tokens / 2 };
  const halve = halveAtMs === undefined ? undefined : setTimeout(() => (provider.quota = halved), halveAtMs);
  const { runId } = await engine.start(label.startsWith('cap-') ? label : 'adaptive', items);
  const outcome = await engine.result(runId, { timeoutMs: 600_000 });
  const makespanMs = Date.now() - started;
  clearTimeout(halve);
  if (outcome.status !== 'succeeded') throw new Error(`${engineName} ${label}: run ${outcome.status}`);
  const info: RunInfo = await engine.status(runId);
  const quotaAt: QuotaAt = (t) => (halveAtMs !== undefined && t >= halveAtMs ? halved : QUOTA);
  // the bench's utilisation: tokens served ÷ the fluid capacity Q × (1 + L / W) (L split at the halving)
  const windows = (ms: number): number => ms / WINDOW_MS;
  const capacityOver = (ms: number): number =>
    halveAtMs === undefined || ms <= halveAtMs
      ? QUOTA.tokens * (1 + windows(ms))
      : QUOTA.tokens * (1 + windows(halveAtMs)) + (QUOTA.tokens / 2) * windows(ms - halveAtMs);
  const needed = Math.max(provider.tokensServed, (provider.served / QUOTA.requests) * QUOTA.tokens);
  let halving: Line['halving'];
  if (halveAtMs !== undefined) {
    const found = provider.received.find((c) => c.throttled && c.at - started >= halveAtMs);
    if (found) {
      const half = WINDOW_MS / 2;
      halving = {
        foundMs: found.at - started - halveAtMs,
        first30: throttledShare(provider.received.filter((c) => c.at >= found.at && c.at < found.at + half)),
        after30: throttledShare(provider.received.filter((c) => c.at >= found.at + half)),
      };
    }
  }
  return {
    engine: engineName,
    limiter: label,
    makespanMs,
    utilisation: provider.tokensServed / capacityOver(makespanMs),
    throttled: throttledShare(provider.received),
    ideal: makespanMs / idealMs(quotaAt, provider.served, provider.tokensServed),
    fluid: makespanMs / fluidIdealMs(halveAtMs, needed),
    attempts: info.attempts.length,
    failed: (outcome.output as { status: string }[]).filter((r) => r.status !== 'succeeded').length,
    cost: info.usage?.cost ?? 0,
    ...(halving ? { halving } : {}),
  };
}

interface Fairness {
  engine: string;
  /** Each run's share of the tokens served while both ran. */
  shares: [number, number];
  /** Grants made while both runs had callers waiting. */
  contended: number;
  throttled: number;
}

/**
 * Two runs of SECTIONS / 2 sections on one quota, started at once: each run's share of the tokens
 * granted while callers of both runs were waiting (what a run got before the other asked is not a
 * matter of fairness).
 */
async function measureFairness(engine: Engine, engineName: string, provider: Provider): Promise<Fairness> {
  provider.reset();
  grants.length = 0;
  waitingByRun.clear();
  const items = Array.from({ length: SECTIONS / 2 }, (_, n) => ({ n }));
  const [a, b] = await Promise.all([engine.start('adaptive', items), engine.start('adaptive', items)]);
  for (const { runId } of [a, b]) {
    const outcome = await engine.result(runId, { timeoutMs: 600_000 });
    if (outcome.status !== 'succeeded') throw new Error(`${engineName} fairness: run ${outcome.status}`);
  }
  const both = grants.filter((g) => g.contended.includes(a.runId) && g.contended.includes(b.runId));
  const tokensOf = (runId: string): number => both.filter((g) => g.runId === runId).reduce((n, g) => n + g.tokens, 0);
  const total = tokensOf(a.runId) + tokensOf(b.runId);
  return {
    engine: engineName,
    shares: [tokensOf(a.runId) / total, tokensOf(b.runId) / total],
    contended: both.length,
    throttled: throttledShare(provider.received),
  };
}

async function benchEngine(entry: EngineEntry, ctx: EngineContext, provider: Provider): Promise<{ lines: Line[]; fairness?: Fairness }> {
  const lines: Line[] = [];
  const servers = await entry.start(ctx);
  try {
    if (LINES.includes('caps')) {
      const plain = await servers.make(false);
      try {
        for (const c of CAPS) lines.push(await measure(plain.engine, entry.name, `cap-${c}`, provider));
      } finally {
        await plain.close();
      }
    }
    // a fresh limiter per line: a line must not start from another one's adaptive state
    const withLimiter = async <T>(f: (engine: Engine) => Promise<T>): Promise<T> => {
      const round = await servers.make(true);
      try {
        return await f(round.engine);
      } finally {
        await round.close();
      }
    };
    if (LINES.includes('adaptive')) lines.push(await withLimiter((e) => measure(e, entry.name, 'adaptive', provider)));
    if (LINES.includes('halved')) lines.push(await withLimiter((e) => measure(e, entry.name, 'adaptive-halved', provider, WINDOW_MS * 2)));
    const fairness = LINES.includes('fair') ? await withLimiter((e) => measureFairness(e, entry.name, provider)) : undefined;
    return { lines, ...(fairness ? { fairness } : {}) };
  } finally {
    await servers.close();
  }
}

const fixed = (x: number, d: number): string => x.toFixed(d);

async function main(): Promise<void> {
  const provider = quotaProvider();
  const bedrock = await startLocalBedrock({ model: provider });
  const model = createBedrockModel({
    modelId: MODEL_ID,
    clientConfig: { endpoint: bedrock.url, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } },
  });
  console.log(
    `quota: ${QUOTA.requests} requests and ${QUOTA.tokens} tokens per ${WINDOW_MS} ms window; ${SECTIONS} sections; latency 20 ms + ${MS_PER_OUTPUT_TOKEN} ms per output token`,
  );
  const lines: Line[] = [];
  const fair: Fairness[] = [];
  try {
    for (const entry of ENGINE_ENTRIES.filter((e) => ENGINES.includes(e.name))) {
      const res = await benchEngine(entry, { pipelines, model, prices, budgets, observe }, provider);
      lines.push(...res.lines);
      if (res.fairness) fair.push(res.fairness);
    }
  } finally {
    await bedrock.close();
  }
  console.log('\nengine  limiter          makespan  utilisation  throttled  makespan/ideal  makespan/fluid  attempts  failed  cost');
  for (const l of lines) {
    console.log(
      `${l.engine.padEnd(7)} ${l.limiter.padEnd(16)} ${`${fixed(l.makespanMs / 1000, 1)} s`.padStart(8)}  ${fixed(l.utilisation, 3).padStart(11)}  ${fixed(l.throttled, 3).padStart(9)}  ${fixed(l.ideal, 2).padStart(14)}  ${fixed(l.fluid, 2).padStart(14)}  ${String(l.attempts).padStart(8)}  ${String(l.failed).padStart(6)}  ${fixed(l.cost, 4)}`,
    );
  }
  console.log('\nquota halved at 2 windows (model time: 1 window = 60 s):');
  const model60 = (ms: number): string => `${fixed((ms / WINDOW_MS) * 60, 0)} s`;
  for (const l of lines.filter((x) => x.limiter === 'adaptive-halved')) {
    const h = l.halving;
    console.log(
      h
        ? `halving ${l.engine} found=+${model60(h.foundMs)} throttled-first-30s=${fixed(h.first30, 3)} throttled-after-30s=${fixed(h.after30, 3)}`
        : `halving ${l.engine} not found (no throttle after the halving)`,
    );
  }
  console.log(
    '\ntwo runs sharing the quota, started together (shares of the tokens granted while both had calls waiting; fair: 0.5 each, within 20 %: 0.4 to 0.6):',
  );
  for (const f of fair)
    console.log(`fair ${f.engine} adaptive shares=${fixed(f.shares[0], 3)}/${fixed(f.shares[1], 3)} grants=${f.contended} throttled=${fixed(f.throttled, 3)}`);
  console.log('');
  for (const l of lines)
    console.log(`quota ${l.engine} ${l.limiter} utilisation=${fixed(l.utilisation, 2)} throttled=${fixed(l.throttled, 3)} makespan=${fixed(l.ideal, 2)}`);
}

await main();
process.exit(0);
