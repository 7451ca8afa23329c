import { foldJournal, type AnyPipeline, type BlobStore, type JournalEntry } from '@baton/core';
import { flushPlan, type FlushContext } from './flush.js';
import { LiveRun, type ReplayPlan } from './replay.js';
import { generationOf, type RunStore } from './store.js';

/** Journals and live interpreters kept per process; a bound keeps memory flat under many runs. */
const CACHE_LIMIT = 500;

/** Drives runs in one process: replays (or advances) their interpreter and writes what it decided. */
export interface RunDriver {
  /**
   * Resolves once a replay that read the journal after this call has written its plan. Calls
   * that arrive while a replay is waiting to read share it, so a burst of task completions
   * costs one replay. `need`: the journal length the caller knows exists (its own entry); when
   * the process already holds that much, the replay skips reading. @default read the journal
   */
  drive(runId: string, need?: number): Promise<void>;
  /** Hands over journal entries a caller already read (they start at `from`). */
  offer(runId: string, from: number, tail: JournalEntry[]): void;
  /** Journal length this process has cached for a run (0 when none). */
  cachedLength(runId: string): number;
}

interface Cached {
  entries: JournalEntry[];
  live: LiveRun;
  gen: number;
  /** Set when a plan of this interpreter could not be written: rebuild by replay. */
  broken: boolean;
}

interface Slot {
  /** The drive that has not read the journal yet: newcomers join it. */
  pending?: Promise<void>;
  /** Journal length the pending drive must cover. */
  need: number;
  /** Read-and-advance steps run one at a time per run; writing plans may overlap. */
  chain: Promise<void>;
  users: number;
}

/** Creates the per-process driver of runs. */
export function createRunDriver(ctx: { store: RunStore; pipelines: ReadonlyMap<string, AnyPipeline>; blobs: BlobStore; flush: FlushContext }): RunDriver {
  const cache = new Map<string, Cached>();
  const slots = new Map<string, Slot>();

  const advance = async (runId: string, need: number): Promise<{ plan: ReplayPlan; gen: number; cached?: Cached } | undefined> => {
    const cached = cache.get(runId);
    // callers handed over the journal up to their own entries: no need to read it again
    const entries = cached && cached.entries.length >= need ? cached.entries : await ctx.store.read(runId, cached?.entries);
    cache.delete(runId);
    const state = foldJournal(entries);
    if (!state.start || state.end) return undefined;
    const pipeline = ctx.pipelines.get(state.start.pipeline);
    if (!pipeline) throw new Error(`this worker does not know pipeline "${state.start.pipeline}" (run ${runId})`);
    const gen = generationOf(entries);
    // reuse the live interpreter only if the journal it saw is a prefix of this one, in the same generation
    const reusable = cached && !cached.broken && cached.gen === gen && (cached.entries.length === 0 || entries[0] === cached.entries[0]);
    const live = reusable ? cached.live : new LiveRun({ runId, pipeline, gen, blobs: ctx.blobs });
    const plan = await live.advance(state);
    if (plan.outcome) return { plan, gen };
    const next: Cached = { entries, live, gen, broken: false };
    cache.set(runId, next);
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    return { plan, gen, cached: next };
  };

  const drive = (runId: string, need = Infinity): Promise<void> => {
    let slot = slots.get(runId);
    if (!slot) slots.set(runId, (slot = { chain: Promise.resolve(), users: 0, need: 0 }));
    if (slot.pending) {
      slot.need = Math.max(slot.need, need);
      return slot.pending;
    }
    slot.need = need;
    const s = slot;
    const previous = s.chain;
    let release!: () => void;
    s.chain = new Promise<void>((r) => (release = r));
    s.users++;
    let p: Promise<void> | undefined = undefined;
    p = (async () => {
      try {
        await previous;
        // from here on the journal is read: later callers need a drive of their own
        const want = s.need;
        if (s.pending === p) delete s.pending;
        const step = await advance(runId, want).finally(release);
        if (!step) return;
        try {
          await flushPlan(ctx.flush, runId, step.gen, step.plan);
        } catch (e) {
          if (step.cached) step.cached.broken = true;
          throw e;
        }
      } finally {
        s.users--;
        if (s.users === 0) slots.delete(runId);
      }
    })();
    s.pending = p;
    return p;
  };

  return {
    drive,
    offer(runId, from, tail) {
      const cached = cache.get(runId);
      if (!cached || cached.entries.length !== from) return;
      cached.entries = cached.entries.concat(tail);
    },
    cachedLength: (runId) => cache.get(runId)?.entries.length ?? 0,
  };
}
