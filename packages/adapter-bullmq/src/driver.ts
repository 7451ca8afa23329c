import { type BlobStore } from '@baton/core';
import { applyJournalEntry, foldJournal, type JournalEntry, type JournalState, type PipelineSet } from '@baton/core/engine';
import { addPendingJobs, enqueueTasks, flushPlan, type FlushContext } from './flush.js';
import { LiveRun, type ReplayPlan, type TaskOrder } from './replay.js';
import type { InlineOwner } from './enqueue.js';
import { generationOf, type EnqueueResult, type RunStore } from './store.js';

/** Journals and live interpreters kept per process; a bound keeps memory flat under many runs. */
const CACHE_LIMIT = 500;

/**
 * Most outcomes one settle writes. The tasks a batch unlocks start together when its write comes
 * back, so a big batch makes every outcome in it wait for the planning of all the others (and
 * keeps them in step for the next hop); smaller batches, sent one behind the other, let the first
 * ones go on while the rest are planned. Measured on the 1,000-item map of bench/bullmq.ts.
 */
const SETTLE_BATCH_LIMIT = 8;

/** Drives runs in one process: replays (or advances) their interpreter and writes what it decided. */
export interface RunDriver {
  /**
   * Resolves once a replay that read the journal after this call has written its plan. Calls
   * that arrive while a replay is waiting to read share it, so a burst of task completions
   * costs one replay. `need`: the journal length the caller knows exists (its own entry); when
   * the process already holds that much, the replay skips reading (default: read the journal).
   * `known`: the journal as the caller has just written it (a start): used instead of reading
   * when this process holds nothing of the run; a journal that has grown meanwhile is caught up
   * by the next write's guard, as with any cached journal.
   */
  drive(runId: string, need?: number, known?: readonly JournalEntry[]): Promise<void>;
  /**
   * Journals a task outcome on the fast path: outcomes of one run that finish in the same turn of
   * the event loop are settled together, up to {@link SETTLE_BATCH_LIMIT} per write. When this process holds the run's interpreter, the plan
   * is computed from the cached journal plus the outcomes, and the outcomes are written together
   * with the task jobs they unlock in one atomic script; nothing is written if the journal moved in
   * a way the plan cannot ignore (see {@link RunStore.enqueue}). Resolves `true` when journaled and
   * scheduled, `false` when not taken (nothing written: record and drive as usual), or with the
   * one task the outcome unlocked when the caller may run it inline (see {@link SettleRequest.owner}).
   * `onAdded` runs once the outcome is journaled, before the rest of the plan is written (events
   * keep their order).
   */
  settle(runId: string, outcome: SettleRequest, onAdded: () => void): Promise<Settled>;
  /** Drops the run's interpreter: the next drive replays the journal and re-issues every order not recorded. */
  forget(runId: string): void;
  /** Hands over journal entries a caller already read (they start at `from`). */
  offer(runId: string, from: number, tail: JournalEntry[]): void;
  /** Journal length this process has cached for a run (0 when none). */
  cachedLength(runId: string): number;
}

/** A task outcome to journal, see {@link RunDriver.settle}. */
export interface SettleRequest {
  field: string;
  entry: JournalEntry;
  /** The attempt's field in the run's in-flight hash (`path#attempt`). */
  running: string;
  /** The attempt's claim (see `taskClaim`). */
  claim: string;
  /**
   * The task job the caller runs in: tasks due now that the settled outcomes unlock are handed to
   * their callers, one each, to run inline under the same job's lock instead of a job round trip.
   */
  owner?: InlineOwner;
}

/** What a settle did: `false` not taken (nothing written), `true` journaled and scheduled, or a task to run inline next. */
export type Settled = boolean | TaskOrder;

/** How a settle batch ended: not written, written, or written with a replay of the whole journal to run. */
type Written = boolean | 'replan';

/** An outcome waiting in a settle batch. */
interface Waiting {
  o: SettleRequest;
  onAdded: () => void;
  resolve: (settled: Settled) => void;
  /** Set by a written settle: `true`, or the task this waiter runs inline. */
  result?: Settled;
  reject: (e: unknown) => void;
}

interface Cached {
  entries: JournalEntry[];
  live: LiveRun;
  gen: number;
  /** The fold of the first `folded` entries and of the outcomes of settles in flight, applied to in place. */
  state: JournalState;
  folded: number;
  /** Outcomes applied to `state` by settles whose write has not come back yet. */
  spec: number;
  /** The result handling of settles in flight, in the order they were sent. */
  results: Promise<void>;
  /** Set when a plan of this interpreter could not be written: rebuild by replay. */
  broken: boolean;
}

interface Slot {
  /** The drive that has not read the journal yet: newcomers join it. */
  pending?: Promise<void>;
  /** Journal length the pending drive must cover. */
  need: number;
  /** Read-and-advance steps (drives and settles) run one at a time per run. */
  chain: Promise<void>;
  users: number;
}

/** Creates the per-process driver of runs. */
export function createRunDriver(ctx: { store: RunStore; pipelines: PipelineSet; blobs: BlobStore; flush: FlushContext }): RunDriver {
  const cache = new Map<string, Cached>();
  const slots = new Map<string, Slot>();
  const batches = new Map<string, Waiting[]>();

  const advance = async (
    runId: string,
    need: number,
    known?: readonly JournalEntry[],
  ): Promise<{ plan: ReplayPlan; gen: number; cached?: Cached } | undefined> => {
    // settles in flight first: their outcomes are in the interpreter, not yet in the journal
    for (let c = cache.get(runId); c && c.spec > 0 && !c.broken; c = cache.get(runId)) await c.results;
    const cached = cache.get(runId);
    // callers handed over the journal up to their own entries: no need to read it again
    const entries =
      cached && cached.entries.length >= need
        ? cached.entries
        : !cached && known && known.length >= need
          ? [...known]
          : await ctx.store.read(runId, cached?.entries);
    cache.delete(runId);
    const gen = generationOf(entries);
    // reuse the live interpreter only if the journal it saw is a prefix of this one, in the same generation
    const reusable = cached && !cached.broken && cached.gen === gen && (cached.entries.length === 0 || entries[0] === cached.entries[0]);
    let state: JournalState;
    if (reusable) {
      // fold only what the cached state has not seen
      state = cached.state;
      for (let i = cached.folded; i < entries.length; i++) applyJournalEntry(state, entries[i]!);
    } else {
      state = foldJournal(entries);
      // a process rebuilding the run adds the public-path jobs a dead caller claimed but never added
      await addPendingJobs(ctx.flush, runId);
    }
    if (!state.start || state.end) return undefined;
    // the run's own version, never the newest: an unknown one is refused (typed) with nothing journaled
    const pipeline = ctx.pipelines.forRun(runId, state.start.pipeline, state.pin);
    const live = reusable ? cached.live : new LiveRun({ runId, pipeline, gen, blobs: ctx.blobs });
    const plan = await live.advance(state);
    if (plan.outcome) return { plan, gen };
    const next: Cached = { entries, live, gen, state, folded: entries.length, spec: 0, results: Promise.resolve(), broken: false };
    cache.set(runId, next);
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    return { plan, gen, cached: next };
  };

  /** Runs `fn` when every earlier drive or settle of the run in this process has read and advanced. */
  const exclusive = async <T>(runId: string, fn: (slot: Slot) => Promise<T>): Promise<T> => {
    let slot = slots.get(runId);
    if (!slot) slots.set(runId, (slot = { chain: Promise.resolve(), users: 0, need: 0 }));
    const s = slot;
    const previous = s.chain;
    let release!: () => void;
    s.chain = new Promise<void>((r) => (release = r));
    s.users++;
    try {
      await previous;
      return await fn(s);
    } finally {
      release();
      s.users--;
      if (s.users === 0 && slots.get(runId) === s) slots.delete(runId);
    }
  };

  const drive = (runId: string, need = Infinity, known?: readonly JournalEntry[]): Promise<void> => {
    const waiting = slots.get(runId);
    if (waiting?.pending) {
      waiting.need = Math.max(waiting.need, need);
      return waiting.pending;
    }
    // reading and advancing run one at a time per run; writing the plans may overlap
    const p: Promise<void> = exclusive(runId, (s) => {
      // from here on the journal is read: later callers need a drive of their own
      if (s.pending === p) delete s.pending;
      return advance(runId, s.need, known);
    }).then(async (step) => {
      if (!step) return;
      try {
        await flushPlan(ctx.flush, runId, step.gen, step.plan);
      } catch (e) {
        if (step.cached) step.cached.broken = true;
        throw e;
      }
    });
    // exclusive has registered the run's slot synchronously
    const slot = slots.get(runId)!;
    slot.need = need;
    slot.pending = p;
    return p;
  };

  /**
   * Settles a batch of outcomes: plans from the journal this process has seen plus the outcomes,
   * and sends the write without waiting for it, so the next batch can be planned and sent while
   * this one is in flight (Redis runs them in order; a batch sent behind another expects exactly
   * the journal the first leaves, else writes nothing). `done` resolves `false` when not taken
   * (nothing written), `true` when written (each waiter's `result` set).
   */
  const sendBatch = async (runId: string, batch: readonly Waiting[]): Promise<{ done: Promise<Written> }> => {
    const cached = cache.get(runId);
    if (!cached || cached.broken) return { done: Promise.resolve(false) };
    let counted = false;
    try {
      const behind = cached.spec > 0;
      const n = cached.entries.length + cached.spec;
      const state = cached.state;
      for (let i = cached.folded; i < cached.entries.length; i++) applyJournalEntry(state, cached.entries[i]!);
      cached.folded = cached.entries.length;
      for (const w of batch) applyJournalEntry(state, w.o.entry);
      cached.spec += batch.length;
      counted = true;
      const plan = await cached.live.advance(state);
      // tasks due now go to the workers whose tasks just finished, to run next under their jobs' locks
      // (no queue hop); the rest become jobs
      const owners = batch.filter((w) => w.o.owner);
      const handed: { w: Waiting; task: TaskOrder }[] = [];
      const queued: TaskOrder[] = [];
      for (const t of plan.tasks) {
        const w = t.delayMs === 0 ? owners[handed.length] : undefined;
        if (w) handed.push({ w, task: t });
        else queued.push(t);
      }
      const jobs = [
        ...handed.map((h) => ctx.flush.encoder.encodeInline(h.task, h.w.o.owner!)),
        ...(await ctx.flush.encoder.encode(queued, ctx.flush.taskBatchSize)),
      ];
      const sent = ctx.store.enqueue(runId, { expectLength: n, strict: behind, outcomes: batch.map((w) => w.o), jobs, queueKeys: ctx.flush.encoder.queueKeys });
      const done = cached.results.then(async () => {
        let res: EnqueueResult;
        try {
          res = await sent;
        } catch (e) {
          cached.spec -= batch.length;
          cached.broken = true;
          throw e;
        }
        try {
          return await received(runId, cached, batch, plan, handed, res);
        } catch (e) {
          cached.broken = true;
          throw e;
        }
      });
      cached.results = done.then(
        () => undefined,
        () => undefined,
      );
      return { done };
    } catch (e) {
      // nothing was sent (the write itself fails through its promise): these outcomes are not in flight
      if (counted) cached.spec -= batch.length;
      cached.broken = true;
      throw e;
    }
  };

  /** Handles the write of a settled batch, in the order batches were sent. */
  const received = async (
    runId: string,
    cached: Cached,
    batch: readonly Waiting[],
    plan: ReplayPlan,
    handed: { w: Waiting; task: TaskOrder }[],
    res: EnqueueResult,
  ): Promise<Written> => {
    cached.spec -= batch.length;
    let replan = false;
    if (res.status !== 'written') {
      // the plan saw a journal that is not the real one: rebuild the interpreter by replay
      cached.broken = true;
      return false;
    }
    for (const e of res.tail) {
      cached.entries.push(e);
      applyJournalEntry(cached.state, e);
    }
    for (const w of batch) cached.entries.push(w.o.entry);
    cached.folded = cached.entries.length;
    if (res.pending.length) await addPendingJobs(ctx.flush, runId, res.pending);
    for (const w of batch) w.onAdded();
    if (plan.outcome) cache.delete(runId);
    await flushPlan(ctx.flush, runId, cached.gen, { ...plan, tasks: [] });
    if (res.tail.length && !plan.outcome) {
      // other processes appended entries meanwhile, and their plans did not see these outcomes:
      // the last writer must plan from the whole journal up to its own entries, as a replay would.
      // Through drive, never here: this handler runs beside the run's other advances, and an
      // interpreter advances one caller at a time
      if (cached.spec > 0) cached.broken = true; // batches sent behind this one will find the journal moved
      replan = true;
    }
    const inline = new Map(handed.filter((_, i) => res.inlined[i] === 'inlined').map((h) => [h.w, h.task]));
    const orphans = handed.filter((_, i) => res.inlined[i] === 'lost').map((h) => h.task);
    if (orphans.length) await enqueueTasks(ctx.flush, runId, orphans);
    for (const w of batch) w.result = inline.get(w) ?? true;
    return replan ? 'replan' : true;
  };

  const settle = (runId: string, o: SettleRequest, onAdded: () => void): Promise<Settled> => {
    const cached = cache.get(runId);
    // a replay of the run in progress here puts the interpreter back when it ends: the batch waits for it
    if (!cached && !slots.has(runId)) return Promise.resolve(false);
    return new Promise<Settled>((resolve, reject) => {
      let batch = batches.get(runId);
      // a full batch is left to go out as it is: this outcome starts the next one
      if (batch && batch.length >= SETTLE_BATCH_LIMIT) batch = undefined;
      if (!batch) {
        const b: Waiting[] = [];
        batches.set(runId, (batch = b));
        // when the run waits on other effects too, their outcomes may be about to arrive
        const others = !cached || cached.live.waiting > 1;
        exclusive(runId, async () => {
          // outcomes that arrive in this turn of the event loop (or while an earlier batch is planned) join
          if (others) await new Promise((r) => setImmediate(r));
          if (batches.get(runId) === b) batches.delete(runId);
          return sendBatch(runId, b);
        })
          .then(({ done }) => done)
          .then(async (written) => {
            // the replay runs before the batch's jobs complete: if it fails, they are delivered again
            if (written === 'replan') await drive(runId);
            return written;
          })
          .then(
            (written) => b.forEach((w) => w.resolve(written ? (w.result ?? true) : false)),
            (e: unknown) => b.forEach((w) => w.reject(e)),
          );
      }
      batch.push({ o, onAdded, resolve, reject });
    });
  };

  return {
    drive,
    settle,
    offer(runId, from, tail) {
      const cached = cache.get(runId);
      // not while a settle of the run is in flight: its reply appends the journal it wrote to
      // (its own outcomes, what others appended before them) and marks all of it folded, so
      // entries offered meanwhile would be cached and never fed to the interpreter (their
      // branches would wait forever); the caller's drive reads them instead
      if (!cached || cached.broken || cached.spec > 0 || cached.entries.length !== from) return;
      for (const e of tail) cached.entries.push(e);
    },
    cachedLength: (runId) => cache.get(runId)?.entries.length ?? 0,
    forget(runId) {
      const cached = cache.get(runId);
      if (cached) cached.broken = true;
    },
  };
}
