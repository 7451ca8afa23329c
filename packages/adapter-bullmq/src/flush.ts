import type { Queue } from 'bullmq';
import { type ReviewNotice, type RunEvent } from '@baton/core';
import { createReviewToken, pendingReviewOf, reviewEntryFor, type JournalEntry } from '@baton/core/engine';
import { endedChannel, jobId, reviewsChannel } from './keys.js';
import type { ReplayPlan, TaskOrder } from './replay.js';
import type { RunStore } from './store.js';
import { JOB_OPTIONS, type PendingJob, type TaskJobEncoder } from './enqueue.js';

/** What {@link flushPlan} writes through. */
export interface FlushContext {
  store: RunStore;
  driveQueue: Queue;
  /** Encodes task jobs for {@link RunStore.enqueue}. */
  encoder: TaskJobEncoder;
  /** Most tasks one task job carries. */
  taskBatchSize: number;
  /** Delivers a review notice (the worker's notifier and the relay channel). */
  deliver(notice: ReviewNotice): Promise<void>;
  observe(event: RunEvent): void;
  /** See {@link NOTICE_GRACE_MS}. */
  noticeGraceMs: number;
}

/** The idempotency field of a task attempt's outcome. */
export function taskField(t: Pick<TaskOrder, 'stepPath' | 'attempt' | 'gen'>): string {
  return `task|${t.stepPath}#${t.attempt}@${t.gen}`;
}

type ReviewEntry = Extract<JournalEntry, { t: 'review' }>;

/**
 * How long after a gate opens its notice must be recorded as delivered. A worker that dies
 * between opening a gate and delivering its notice leaves a token nobody holds; after this the
 * next replay makes a new token and delivers the notice again (the first token was never seen).
 * A notifier slower than this may see its reviewer notified twice, the first token void.
 */
export const NOTICE_GRACE_MS = 20_000;

/** Claims and enqueues task attempts (those claimed before are skipped). */
export async function enqueueTasks(ctx: FlushContext, runId: string, tasks: readonly TaskOrder[]): Promise<void> {
  const res = await ctx.store.enqueue(runId, { outcomes: [], jobs: await ctx.encoder.encode(tasks, ctx.taskBatchSize), queueKeys: ctx.encoder.queueKeys });
  await addPendingJobs(ctx, runId, res.pending);
}

/**
 * Adds task jobs the enqueue script claimed on the public path, then forgets them. Adding one
 * twice is a no-op (deterministic job ids), so a replay may add what a caller that died between
 * the script and `addBulk` left pending (`undefined`: read the run's pending jobs).
 */
export async function addPendingJobs(ctx: FlushContext, runId: string, jobs?: readonly PendingJob[]): Promise<void> {
  const todo = jobs ?? (await ctx.store.pendingJobs(runId));
  if (!todo.length) return;
  await ctx.encoder.addPending(todo);
  await ctx.store.clearPending(
    runId,
    todo.map((j) => j.id),
  );
}

/** Adds a driver job that replays a run. */
export async function wakeRun(queue: Queue, runId: string, id: string, delayMs = 0): Promise<void> {
  await queue.add('drive', { runId }, { ...JOB_OPTIONS, jobId: jobId(runId, id), ...(delayMs > 0 ? { delay: delayMs } : {}) });
}

/**
 * Writes what a replay decided. Every write is idempotent (journal writes once per field, jobs
 * once per id), so a replay that crashes halfway is simply replayed again by its redelivered job.
 */
export async function flushPlan(ctx: FlushContext, runId: string, gen: number, plan: ReplayPlan): Promise<void> {
  const { store } = ctx;
  const at = (): string => new Date().toISOString();
  await Promise.all([
    ...plan.timers.map((t) =>
      store.record(runId, { field: `timer|${t.key}@${gen}`, value: String(t.dueAt), entries: [{ t: 'timer', key: t.key, dueAt: t.dueAt }] }),
    ),
    ...plan.retries.map(async (r) => {
      const res = await store.record(runId, { field: `retry|${r.path}#${r.attempt}@${gen}`, entries: [{ t: 'retry', ...r }] });
      if (res.added) ctx.observe({ type: 'retry-scheduled', runId, stepPath: r.path, attempt: r.attempt, code: r.code, delayMs: r.delayMs, at: at() });
    }),
  ]);
  if (plan.tasks.length) await enqueueTasks(ctx, runId, plan.tasks);
  if (plan.wakeups.length) {
    const now = Date.now();
    await ctx.driveQueue.addBulk(
      plan.wakeups.map((w) => ({ name: 'drive', data: { runId }, opts: { ...JOB_OPTIONS, jobId: jobId(runId, w.id), delay: Math.max(1, w.at - now) } })),
    );
  }
  for (const req of plan.reviews) {
    const { token, hash } = createReviewToken();
    const entry = reviewEntryFor(req, hash, Date.now());
    const res = await store.record(runId, { field: `review|${req.stepPath}@${gen}`, entries: [entry] });
    if (!res.added) continue;
    await wakeRun(ctx.driveQueue, runId, `a|${req.stepPath}|${gen}`, req.timeoutSeconds * 1000);
    // the replay then checks that the notice went out (this process may die before it does)
    await wakeRun(ctx.driveQueue, runId, noticeCheckId(req.stepPath, gen, hash), ctx.noticeGraceMs + 1);
    await notify(ctx, runId, gen, entry, token);
  }
  for (const { review } of plan.open) {
    if (await store.marked(runId, noticeField(review.path, gen))) continue;
    const age = Date.now() - Date.parse(review.createdAt);
    if (age < ctx.noticeGraceMs) {
      // a replay redelivered after its worker died may find the gate journaled and its check not
      // yet scheduled: make sure one looks again when the grace ends (one job per token)
      await wakeRun(ctx.driveQueue, runId, noticeCheckId(review.path, gen, review.tokenHash), ctx.noticeGraceMs - age + 1);
      continue;
    }
    // opened, never delivered: the token died with the process that made it (only its hash is
    // kept), so a new one replaces it, once per lost token whichever replay sees it first
    const { token, hash } = createReviewToken();
    const entry: ReviewEntry = { ...review, tokenHash: hash };
    const res = await store.record(runId, { field: `review|${review.path}@${gen}|${review.tokenHash}`, entries: [entry] });
    if (!res.added) continue;
    // this delivery may be lost too (its worker killed in turn): checked again after the grace
    await wakeRun(ctx.driveQueue, runId, noticeCheckId(review.path, gen, hash), ctx.noticeGraceMs + 1);
    await notify(ctx, runId, gen, entry, token);
  }
  for (const req of plan.expired) {
    const entry: JournalEntry = { t: 'decision', path: req.stepPath, gate: req.gate, decision: 'timeout', at: at() };
    const res = await store.record(runId, { field: `decision|${req.stepPath}@${gen}`, entries: [entry] });
    if (!res.added) continue;
    ctx.observe({ type: 'review-decided', runId, gate: req.gate, stepPath: req.stepPath, decision: 'timeout', at: entry.at });
    await wakeRun(ctx.driveQueue, runId, `timeout|${req.stepPath}|${gen}`);
  }
  if (plan.outcome) {
    const o = plan.outcome;
    const entry: Extract<JournalEntry, { t: 'end' }> =
      o.status === 'succeeded' ? { t: 'end', ok: true, output: o.output, at: at() } : { t: 'end', ok: false, error: o.error, at: at() };
    const res = await store.record(runId, { field: `end@${gen}`, entries: [entry], end: entry });
    if (res.added) {
      await store.redis.publish(endedChannel(store.prefix), runId);
      ctx.observe(
        o.status === 'succeeded'
          ? { type: 'run-finished', runId, status: 'succeeded', output: o.output, at: entry.at }
          : { type: 'run-finished', runId, status: 'failed', error: o.error, at: entry.at },
      );
    }
  }
}

/** The id of the driver job that checks, after the grace, that the notice of this token went out. */
const noticeCheckId = (path: string, gen: number, tokenHash: string): string => `n|${path}|${gen}|${tokenHash.slice(0, 16)}`;

/** The idempotency field that records a gate's notice as delivered. */
const noticeField = (path: string, gen: number): string => `noticed|${path}@${gen}`;

/**
 * Reports a review opened and delivers its notice, then records the delivery. A notice not
 * recorded `noticeGraceMs` ({@link NOTICE_GRACE_MS}) after its gate opened is delivered again with a new token.
 */
async function notify(ctx: FlushContext, runId: string, gen: number, entry: ReviewEntry, token: string): Promise<void> {
  const pending = pendingReviewOf(runId, entry);
  const { reviewer, sections } = pending;
  ctx.observe({
    type: 'review-opened',
    runId,
    gate: entry.gate,
    stepPath: entry.path,
    payload: entry.payload,
    tokenHash: entry.tokenHash,
    expiresAt: entry.expiresAt,
    at: entry.createdAt,
    ...(reviewer === undefined ? {} : { reviewer }),
    ...(sections === undefined ? {} : { sections }),
  });
  await ctx.deliver({ ...pending, token });
  await ctx.store.record(runId, { field: noticeField(entry.path, gen), entries: [] });
}

/** Publishes a review notice to engines that relay it to their notifier. Pub/sub only: the token is never stored. */
export async function publishNotice(store: RunStore, notice: ReviewNotice): Promise<void> {
  await store.redis.publish(reviewsChannel(store.prefix), JSON.stringify(notice));
}
