import { type AnyPipeline, type BlobStore, type RunOutcome } from '@baton/core';
import { resolveRefs, stageMetaOf, storeValue, type JournalEntry, type JournalState } from '@baton/core/engine';
import { interpret, type Effects } from '@baton/core/interpreter';
import type { ApprovalOutcome, ApprovalRequest } from '@baton/core/interpreter';

/** A task attempt the interpreter asked for and the journal does not hold: a task job to enqueue. */
export interface TaskOrder {
  runId: string;
  pipeline: string;
  /** The run's pipeline version, whose stage the task runs (absent in jobs queued before versions). */
  pipelineVersion?: number;
  gen: number;
  stepPath: string;
  stage: string;
  input: unknown;
  attempt: number;
  hash: string;
  timeoutMs?: number;
  /** Retry delay still to wait, from the retry timer. */
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

/** What one advance of a run decided; the caller writes it (idempotently) to Redis and the queues. */
export interface ReplayPlan {
  /** Set once the run has ended. */
  outcome?: RunOutcome;
  tasks: TaskOrder[];
  /** Durable timers started (first writer wins). */
  timers: { key: string; dueAt: number }[];
  retries: RetryNote[];
  /** Driver jobs to schedule at a time: waits that have not elapsed, approval expiries. */
  wakeups: { id: string; at: number }[];
  /** Approval gates reached for the first time. */
  reviews: ApprovalRequest[];
  /** Gates whose time ran out without a decision. */
  expired: ApprovalRequest[];
  /** Gates open and undecided, with their review entry: their notice may need delivering again. */
  open: { req: ApprovalRequest; review: Extract<JournalEntry, { t: 'review' }> }[];
}

/** What a {@link LiveRun} needs. */
export interface LiveRunInput {
  runId: string;
  pipeline: AnyPipeline;
  /** Redrive generation the run is in. */
  gen: number;
  blobs: BlobStore;
  now?: () => number;
}

/** An effect waiting for the journal: `check` answers once the journal (or the clock) can. */
interface Pending {
  check(): { value: unknown; afterMs?: number } | undefined;
  resolve(value: unknown): void;
}

/** Below this a timer is awaited in-process instead of through a delayed driver job. */
const INLINE_SLEEP_MS = 1000;

const emptyPlan = (): ReplayPlan => ({ tasks: [], timers: [], retries: [], wakeups: [], reviews: [], expired: [], open: [] });

/**
 * Core's interpreter driven by a run's journal. The first {@link LiveRun.advance} replays the
 * journal from the start: recorded effects answer at once, an effect not recorded yet becomes an
 * order in the plan and its branch waits. Later advances only feed new journal entries to the
 * waiting branches, so a worker that keeps the run in memory pays per hop, not per run length; any
 * other worker (or this one after a restart) rebuilds the same state by replay. An advance returns
 * when every branch waits or the run has ended, so map items and parallel branches progress
 * together, and the map's own pool keeps at most `maxConcurrency` items in flight however many
 * processes run tasks.
 */
export class LiveRun {
  private state: JournalState | undefined;
  private plan: ReplayPlan = emptyPlan();
  private readonly retryDue = new Map<string, number>();
  private readonly pending = new Set<Pending>();
  private busy = 0;
  private idle: (() => void) | undefined;
  private outcome: RunOutcome | undefined;
  private readonly now: () => number;

  constructor(private readonly input: LiveRunInput) {
    this.now = input.now ?? Date.now;
  }

  /** How many effects (tasks, timers, gates) wait on the journal. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Feeds the run's current journal state; returns what to write and enqueue. */
  async advance(state: JournalState): Promise<ReplayPlan> {
    const first = this.state === undefined;
    this.state = state;
    this.plan = emptyPlan();
    if (first) this.start(state);
    else {
      for (const p of [...this.pending]) {
        const answer = p.check();
        if (!answer) continue;
        this.pending.delete(p);
        if (answer.afterMs && answer.afterMs > 0) void this.work(new Promise((r) => setTimeout(r, answer.afterMs))).then(() => p.resolve(answer.value));
        else p.resolve(answer.value);
      }
    }
    await this.quiesce();
    if (this.outcome) this.plan.outcome = this.outcome;
    return this.plan;
  }

  private start(initial: JournalState): void {
    const { runId, pipeline } = this.input;
    if (!initial.start) throw new Error(`run "${runId}" has no start entry`);
    void interpret(pipeline.ir, initial.start.input, this.effects(), { runId, stages: stageMetaOf(pipeline) }).then((outcome) => {
      this.outcome = outcome;
      this.idle?.();
    });
  }

  /** Resolves when every branch waits on the journal or the run has ended. */
  private async quiesce(): Promise<void> {
    // setImmediate runs after every pending microtask: if nothing is doing I/O then, every branch waits
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (this.outcome || this.busy === 0) return;
      await new Promise<void>((r) => (this.idle = r));
      this.idle = undefined;
    }
  }

  private async work<T>(p: Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await p;
    } finally {
      this.busy--;
      if (this.busy === 0) this.idle?.();
    }
  }

  private wait<T>(check: () => { value: unknown; afterMs?: number } | undefined): Promise<T> {
    return new Promise<T>((resolve) => this.pending.add({ check, resolve: resolve as (v: unknown) => void }));
  }

  private get s(): JournalState {
    return this.state!;
  }

  private effects(): Effects {
    const { runId, pipeline, gen } = this.input;
    const now = this.now;
    return {
      completed: async (stepPath, hash) => {
        const hit = this.s.completed.get(stepPath);
        return hit && hit.hash === hash ? { output: hit.output } : undefined;
      },
      runTask: async (req, hash) => {
        const failedKey = `${req.stepPath}#${req.attempt}`;
        const failed = this.s.failedAttempts.get(failedKey);
        if (failed) return { ok: false, error: failed };
        const due = this.retryDue.get(req.stepPath);
        this.plan.tasks.push({
          runId,
          pipeline: pipeline.name,
          pipelineVersion: pipeline.ir.version,
          gen,
          stepPath: req.stepPath,
          stage: req.stage,
          input: req.input,
          attempt: req.attempt,
          hash,
          delayMs: due === undefined ? 0 : Math.max(0, due - now()),
          ...(req.timeoutMs === undefined ? {} : { timeoutMs: req.timeoutMs }),
        });
        return this.wait(() => {
          const hit = this.s.completed.get(req.stepPath);
          if (hit && hit.hash === hash) return { value: { ok: true, output: hit.output } };
          const error = this.s.failedAttempts.get(failedKey);
          return error ? { value: { ok: false, error } } : undefined;
        });
      },
      sleep: async (key, ms) => {
        let due = this.s.timers.get(key);
        if (due === undefined) {
          due = now() + ms;
          this.plan.timers.push({ key, dueAt: due });
        }
        if (key.endsWith(':retry')) {
          // the next attempt's task job carries the delay: one hop per retry, not two
          this.retryDue.set(key.slice(0, key.lastIndexOf('#')), due);
          return;
        }
        const at = due;
        const remaining = at - now();
        if (remaining <= 0) return;
        if (remaining <= INLINE_SLEEP_MS) return this.work(new Promise<void>((r) => setTimeout(r, remaining)));
        this.plan.wakeups.push({ id: `t|${key}|${gen}|${at}`, at });
        return this.wait(() => {
          const left = at - now();
          return left <= INLINE_SLEEP_MS ? { value: undefined, afterMs: left } : undefined;
        });
      },
      approval: async (req) => {
        const decided = (): { value: ApprovalOutcome } | undefined => {
          const d = this.s.decisions.get(req.stepPath);
          if (!d) return undefined;
          const o: ApprovalOutcome = { decision: d.decision, decidedAt: d.at };
          if (d.reviewer !== undefined) o.reviewer = d.reviewer;
          if (d.comment !== undefined) o.comment = d.comment;
          if (d.sections !== undefined) o.sections = d.sections;
          return { value: o };
        };
        const expiry = (): void => {
          const review = this.s.reviews.get(req.stepPath);
          if (!review) return;
          const expiresAt = Date.parse(review.expiresAt);
          if (now() >= expiresAt) this.plan.expired.push(req);
          else this.plan.wakeups.push({ id: `a|${req.stepPath}|${gen}`, at: expiresAt });
        };
        const done = decided();
        if (done) return done.value;
        const review = this.s.reviews.get(req.stepPath);
        if (!review) this.plan.reviews.push(req);
        else {
          this.plan.open.push({ req, review });
          expiry();
        }
        return this.wait<ApprovalOutcome>(() => {
          const d = decided();
          if (!d) expiry();
          return d;
        });
      },
      resolve: (value) => this.work(resolveRefs(value, this.input.blobs)),
      store: (value) => this.work(storeValue(value, this.input.blobs, `claims/${runId}`)),
      now,
      emit: (event) => {
        if (event.type !== 'retry-scheduled') return;
        if (this.s.retries.some((r) => r.path === event.stepPath && r.attempt === event.attempt)) return;
        const { stepPath, attempt, code, delayMs, maxDelayMs } = event;
        this.plan.retries.push({ path: stepPath, attempt, code, delayMs, maxDelayMs });
      },
    };
  }
}
