import { interpret, resolveRefs, stageMetaOf, type AnyPipeline, type BlobStore, type Effects, type JournalState, type RunOutcome } from '@baton/core';
import type { ApprovalOutcome, ApprovalRequest } from '@baton/core/interpreter';

/** A task attempt the replay found neither recorded nor running: a task job to enqueue. */
export interface TaskOrder {
  runId: string;
  pipeline: string;
  gen: number;
  stepPath: string;
  stage: string;
  input: unknown;
  attempt: number;
  hash: string;
  timeoutMs?: number;
  /** Retry delay still to wait, from the recorded retry timer. */
  delayMs: number;
}

/** A retry the interpreter scheduled, to journal once. */
export interface RetryNote {
  path: string;
  attempt: number;
  code: string;
  delayMs: number;
  maxDelayMs: number;
}

/** Everything one replay decided; the caller writes it (idempotently) to Redis and the queues. */
export interface ReplayPlan {
  /** Set when the run ended in this replay. */
  outcome?: RunOutcome;
  tasks: TaskOrder[];
  /** Durable timers started in this replay (first writer wins). */
  timers: { key: string; dueAt: number }[];
  retries: RetryNote[];
  /** Driver jobs to schedule at a time: waits that have not elapsed, approval expiries. */
  wakeups: { id: string; at: number }[];
  /** Approval gates reached for the first time. */
  reviews: ApprovalRequest[];
  /** Gates whose time ran out without a decision. */
  expired: ApprovalRequest[];
}

/** What {@link replayRun} needs. */
export interface ReplayInput {
  runId: string;
  pipeline: AnyPipeline;
  state: JournalState;
  gen: number;
  blobs: BlobStore;
  now?: () => number;
}

/** Below this a timer is awaited inside the replay instead of through a delayed driver job. */
const INLINE_SLEEP_MS = 25;

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

/**
 * Replays core's interpreter against a run's journal. Recorded effects answer at once; an effect
 * that is not recorded yet becomes an order in the plan and its branch suspends (its promise never
 * settles). The replay returns when every branch is suspended or the run has ended, so map items
 * and parallel branches all make progress in one replay, and the map's own worker pool keeps at
 * most `maxConcurrency` items in flight however many processes run tasks.
 */
export async function replayRun(input: ReplayInput): Promise<ReplayPlan> {
  const { runId, pipeline, state, gen } = input;
  const now = input.now ?? Date.now;
  const plan: ReplayPlan = { tasks: [], timers: [], retries: [], wakeups: [], reviews: [], expired: [] };
  const retryDue = new Map<string, number>();
  let busy = 0;
  let idle: (() => void) | undefined;
  const work = async <T>(p: Promise<T>): Promise<T> => {
    busy++;
    try {
      return await p;
    } finally {
      busy--;
      if (busy === 0) idle?.();
    }
  };
  const recordedRetries = new Set(state.retries.map((r) => `${r.path}#${r.attempt}`));

  const effects: Effects = {
    async completed(stepPath, hash) {
      const hit = state.completed.get(stepPath);
      return hit && hit.hash === hash ? { output: hit.output } : undefined;
    },
    async runTask(req, hash) {
      const failed = state.failedAttempts.get(`${req.stepPath}#${req.attempt}`);
      if (failed) return { ok: false, error: failed };
      const due = retryDue.get(req.stepPath);
      plan.tasks.push({
        runId,
        pipeline: pipeline.name,
        gen,
        stepPath: req.stepPath,
        stage: req.stage,
        input: req.input,
        attempt: req.attempt,
        hash,
        delayMs: due === undefined ? 0 : Math.max(0, due - now()),
        ...(req.timeoutMs === undefined ? {} : { timeoutMs: req.timeoutMs }),
      });
      return never();
    },
    async sleep(key, ms) {
      let due = state.timers.get(key);
      if (due === undefined) {
        due = now() + ms;
        plan.timers.push({ key, dueAt: due });
      }
      if (key.endsWith(':retry')) {
        // the next attempt's task job carries the delay: one hop per retry, not two
        retryDue.set(key.slice(0, key.lastIndexOf('#')), due);
        return;
      }
      const remaining = due - now();
      if (remaining <= 0) return;
      if (remaining <= INLINE_SLEEP_MS) return work(new Promise<void>((r) => setTimeout(r, remaining)));
      plan.wakeups.push({ id: `t|${key}|${gen}|${due}`, at: due });
      return never();
    },
    async approval(req): Promise<ApprovalOutcome> {
      const decided = state.decisions.get(req.stepPath);
      if (decided) {
        const o: ApprovalOutcome = { decision: decided.decision, decidedAt: decided.at };
        if (decided.reviewer !== undefined) o.reviewer = decided.reviewer;
        if (decided.comment !== undefined) o.comment = decided.comment;
        return o;
      }
      const review = state.reviews.get(req.stepPath);
      if (!review) plan.reviews.push(req);
      else {
        const expiresAt = Date.parse(review.expiresAt);
        if (now() >= expiresAt) plan.expired.push(req);
        else plan.wakeups.push({ id: `a|${req.stepPath}|${gen}`, at: expiresAt });
      }
      return never();
    },
    resolve: (value) => work(resolveRefs(value, input.blobs)),
    now,
    emit(event) {
      if (event.type === 'retry-scheduled' && !recordedRetries.has(`${event.stepPath}#${event.attempt}`)) {
        const { stepPath, attempt, code, delayMs, maxDelayMs } = event;
        plan.retries.push({ path: stepPath, attempt, code, delayMs, maxDelayMs });
      }
    },
  };

  if (!state.start) throw new Error(`run "${runId}" has no start entry`);
  let ended = false;
  const run = interpret(pipeline.ir, state.start.input, effects, { runId, stages: stageMetaOf(pipeline) }).then((outcome) => {
    ended = true;
    plan.outcome = outcome;
    idle?.();
  });
  // setImmediate runs after every pending microtask: if nothing is doing I/O then, every branch is suspended
  for (;;) {
    await new Promise((r) => setImmediate(r));
    if (ended || busy === 0) break;
    await new Promise<void>((r) => {
      idle = r;
    });
    idle = undefined;
  }
  await (ended ? run : undefined);
  return plan;
}
