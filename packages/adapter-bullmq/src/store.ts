import type { Redis } from 'ioredis';
import { silentLogger, type Logger } from '@baton/core';
import { foldJournal, type JournalEntry, type JournalState } from '@baton/core/engine';
import { activeRunsKey, runKeys, runsIndexKey } from './keys.js';
import { newRedis, redisOptionsOf, type RedisConnection } from './options.js';
import { ENQUEUE_SCRIPT, RELEASE_INLINE_SCRIPT, enqueueArgs, type EncodedTaskJob, type PendingJob } from './enqueue.js';

/**
 * Appends journal entries once per idempotency field, atomically with its side keys:
 * the in-flight attempt it settles, the run's end marker, the runs index and the set of unfinished runs.
 * KEYS: once, journal, running, end, index, active.
 * ARGV: field, value, runningField|'', end ('' keep, '-' delete, '=' set to the first entry, else set to this), indexScore|'', runId, tailFrom (-1: none), entries...
 * Returns \{added, stored value, journal length, journal entries from tailFrom\}.
 */
const RECORD_SCRIPT = `
local added = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HDEL', KEYS[3], ARGV[3]) end
if added == 1 then
  for i = 8, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
  if ARGV[4] == '-' then
    redis.call('DEL', KEYS[4])
    redis.call('SADD', KEYS[6], ARGV[6])
  elseif ARGV[4] ~= '' then
    redis.call('SET', KEYS[4], ARGV[4] == '=' and ARGV[8] or ARGV[4])
    redis.call('SREM', KEYS[6], ARGV[6])
  end
  if ARGV[5] ~= '' then
    redis.call('ZADD', KEYS[5], ARGV[5], ARGV[6])
    if ARGV[4] == '' then redis.call('SADD', KEYS[6], ARGV[6]) end
  end
end
local from = tonumber(ARGV[7])
local tail = {}
if from >= 0 then tail = redis.call('LRANGE', KEYS[2], from, -1) end
return {added, redis.call('HGET', KEYS[1], ARGV[1]), redis.call('LLEN', KEYS[2]), tail}
`;

/**
 * Starts an attempt unless its outcome is already recorded or the run has ended.
 * KEYS: once, running, journal, end. ARGV: field, runningField, runningValue.
 * Returns the journal length when recorded, -1 when the attempt should run.
 */
const BEGIN_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('HDEL', KEYS[2], ARGV[2])
  return redis.call('LLEN', KEYS[3])
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return -1
`;

interface ScriptedRedis extends Redis {
  batonRecord(...args: (string | number)[]): Promise<[number, string | null, number, string[]]>;
  batonBegin(...args: (string | number)[]): Promise<number>;
  batonEnqueue(...args: (string | number | Buffer)[]): Promise<[number, number, string[], number[], string[]]>;
  batonReleaseInline(...args: string[]): Promise<number>;
}

/** What one {@link RunStore.record} call writes. */
export interface RecordRequest {
  /** Idempotency field: the entries are written only by the first call with this field. */
  field: string;
  /** Value stored under the field (read back by losers). @default '1' */
  value?: string;
  entries: JournalEntry[];
  /** In-flight attempt to clear (`path#attempt`), whether or not this call wins. */
  running?: string;
  /** Set the run's end marker to this entry, or delete it. */
  end?: JournalEntry | 'delete';
  /** Add the run to the runs index with this score (start time). */
  indexAt?: number;
  /** Return the journal from this index on (what the caller has not seen). */
  tailFrom?: number;
}

/** What {@link RunStore.record} did. */
export interface RecordResult {
  added: boolean;
  value: string | null;
  length: number;
  /** Journal entries from `tailFrom` on, when asked. */
  tail: JournalEntry[];
}

/** A task outcome for {@link RunStore.enqueue}. */
export interface OutcomeWrite {
  /** Idempotency field of the outcome. */
  field: string;
  /** In-flight attempt to clear (`path#attempt`), whatever happens. */
  running: string;
  /** The task's claim, cleared from the inline hash when it was run inline. */
  claim: string;
  entry: JournalEntry;
}

/** What one {@link RunStore.enqueue} call writes. */
export interface EnqueueRequest {
  /**
   * The journal length the caller's plan was computed on: nothing is written if the journal is
   * shorter, or if what was appended since holds a start, end or redrive. @default no check
   */
  expectLength?: number;
  /** The journal must have exactly `expectLength` entries (nothing appended since either). */
  strict?: boolean;
  outcomes: OutcomeWrite[];
  jobs: EncodedTaskJob[];
  /** The task queue's keys (`TaskJobEncoder.queueKeys`). */
  queueKeys: readonly string[];
}

/** What {@link RunStore.enqueue} did. */
export interface EnqueueResult {
  /** `written`: outcomes and jobs; `moved`: the journal changed under the caller; `recorded`: an outcome was there already. Nothing is written unless `written`. */
  status: 'written' | 'moved' | 'recorded';
  length: number;
  /** Entries appended between `expectLength` and this call's own (when written). */
  tail: JournalEntry[];
  /** Per `inline` job, in order: `inlined` claimed for its owner to run, `taken` claimed before, `lost` its owner lost the lock (enqueue it). */
  inlined: ('inlined' | 'taken' | 'lost')[];
  /** `public` jobs claimed and kept pending: add them (`TaskJobEncoder.addPending`), then {@link RunStore.clearPending}. */
  pending: PendingJob[];
}

/** An attempt in flight, as kept in the run's `running` hash. */
export interface RunningAttempt {
  path: string;
  stage: string;
  attempt: number;
  at: string;
}

/** Run journals in Redis: append-only lists folded by core's `foldJournal`. */
export interface RunStore {
  readonly redis: Redis;
  readonly prefix: string;
  record(runId: string, request: RecordRequest): Promise<RecordResult>;
  /**
   * Appends task outcomes and adds task jobs in one atomic script (see {@link EnqueueRequest});
   * each task of a job is claimed once per run, so a task is never in two jobs.
   */
  enqueue(runId: string, request: EnqueueRequest): Promise<EnqueueResult>;
  /** Releases the claims of the tasks a task job was running inline (it is delivered again). */
  releaseInline(runId: string, jobId: string): Promise<number>;
  /** Task jobs of the public enqueue path claimed but not known to be added (a caller died in between, or is adding them). */
  pendingJobs(runId: string): Promise<PendingJob[]>;
  /** Forgets pending jobs once they are added. */
  clearPending(runId: string, ids: readonly string[]): Promise<void>;
  /** Marks an attempt in flight; returns the journal length if its outcome is already recorded. */
  begin(runId: string, field: string, attempt: RunningAttempt): Promise<number | undefined>;
  /** Marks attempts in flight (one write) without waiting for Redis (commands on one connection keep their order). */
  markRunning(runId: string, attempts: RunningAttempt[]): void;
  /** The run's journal; `cached` entries already read are reused when the journal still holds them. */
  read(runId: string, cached?: JournalEntry[]): Promise<JournalEntry[]>;
  fold(runId: string): Promise<JournalState>;
  running(runId: string): Promise<RunningAttempt[]>;
  /** Whether the run was started. */
  exists(runId: string): Promise<boolean>;
  /** Whether an idempotency field was written (by {@link RunStore.record}). */
  marked(runId: string, field: string): Promise<boolean>;
  end(runId: string): Promise<Extract<JournalEntry, { t: 'end' }> | undefined>;
  /** Run ids, newest first. */
  runIds(): Promise<string[]>;
  /** Ids of runs that have not ended. */
  activeRunIds(): Promise<string[]>;
  close(): Promise<void>;
}

/** Creates a run store on its own Redis connection. */
export function createRunStore(connection: RedisConnection, prefix: string, logger: Logger = silentLogger): RunStore {
  // no auto-pipelining: measured, it adds latency to every hop more than it saves in writes
  const redis = newRedis(redisOptionsOf(connection)) as ScriptedRedis;
  // ioredis reconnects by itself; without a listener it would print every failed attempt
  redis.on('error', (e: Error) => logger.warn('redis connection error', { error: e.message }));
  redis.defineCommand('batonRecord', { numberOfKeys: 6, lua: RECORD_SCRIPT });
  redis.defineCommand('batonBegin', { numberOfKeys: 4, lua: BEGIN_SCRIPT });
  redis.defineCommand('batonEnqueue', { numberOfKeys: 14, lua: ENQUEUE_SCRIPT });
  redis.defineCommand('batonReleaseInline', { numberOfKeys: 2, lua: RELEASE_INLINE_SCRIPT });
  const keys = (runId: string): ReturnType<typeof runKeys> => runKeys(prefix, runId);

  const read = async (runId: string, cached: JournalEntry[] = []): Promise<JournalEntry[]> => {
    const k = keys(runId);
    const res = await redis.multi().llen(k.journal).lrange(k.journal, cached.length, -1).exec();
    const len = Number(res?.[0]?.[1] ?? 0);
    let tail = (res?.[1]?.[1] as string[] | undefined) ?? [];
    let base = cached;
    if (len !== cached.length + tail.length) {
      // the journal is shorter than what we cached (Redis lost writes): start over
      base = [];
      tail = await redis.lrange(k.journal, 0, -1);
    }
    return base.concat(tail.map((s) => JSON.parse(s) as JournalEntry));
  };

  return {
    redis,
    prefix,
    async record(runId, r) {
      const k = keys(runId);
      // an end that is the one entry written is sent once
      const end = r.end === undefined ? '' : r.end === 'delete' ? '-' : r.entries.length === 1 && r.entries[0] === r.end ? '=' : JSON.stringify(r.end);
      const [added, value, length, tail] = await redis.batonRecord(
        k.once,
        k.journal,
        k.running,
        k.end,
        runsIndexKey(prefix),
        activeRunsKey(prefix),
        r.field,
        r.value ?? '1',
        r.running ?? '',
        end,
        r.indexAt === undefined ? '' : r.indexAt,
        runId,
        r.tailFrom ?? -1,
        ...r.entries.map((e) => JSON.stringify(e)),
      );
      return { added: added === 1, value, length, tail: tail.map((e) => JSON.parse(e) as JournalEntry) };
    },
    async enqueue(runId, r) {
      const k = keys(runId);
      const [status, length, tail, inlined, pending] = await redis.batonEnqueue(
        k.once,
        k.journal,
        k.running,
        k.inline,
        ...r.queueKeys,
        k.pending,
        ...enqueueArgs(
          r.expectLength === undefined ? '-1' : r.strict ? `=${r.expectLength}` : String(r.expectLength),
          r.outcomes.map((o) => ({ field: o.field, running: o.running, claim: o.claim, entryJson: JSON.stringify(o.entry) })),
          r.jobs,
        ),
      );
      return {
        status: status === 1 ? 'written' : status === 0 ? 'moved' : 'recorded',
        length,
        tail: tail.map((e) => JSON.parse(e) as JournalEntry),
        inlined: inlined.map((x) => (x === 1 ? 'inlined' : x === 2 ? 'lost' : 'taken')),
        pending: pending.map((p) => JSON.parse(p) as PendingJob),
      };
    },
    async releaseInline(runId, jobId) {
      const k = keys(runId);
      return redis.batonReleaseInline(k.once, k.inline, jobId);
    },
    async pendingJobs(runId) {
      const all = await redis.hvals(keys(runId).pending);
      return all.map((p) => JSON.parse(p) as PendingJob);
    },
    async clearPending(runId, ids) {
      if (ids.length) await redis.hdel(keys(runId).pending, ...ids);
    },
    async begin(runId, field, attempt) {
      const k = keys(runId);
      const len = await redis.batonBegin(k.once, k.running, k.journal, k.end, field, `${attempt.path}#${attempt.attempt}`, JSON.stringify(attempt));
      return len >= 0 ? len : undefined;
    },
    markRunning(runId, attempts) {
      if (!attempts.length) return;
      redis.hset(keys(runId).running, ...attempts.flatMap((a) => [`${a.path}#${a.attempt}`, JSON.stringify(a)])).catch(() => undefined);
    },
    read,
    async fold(runId) {
      return foldJournal(await read(runId));
    },
    async running(runId) {
      const all = await redis.hvals(keys(runId).running);
      return all.map((s) => JSON.parse(s) as RunningAttempt);
    },
    async exists(runId) {
      return (await redis.hexists(keys(runId).once, 'start')) === 1;
    },
    async marked(runId, field) {
      return (await redis.hexists(keys(runId).once, field)) === 1;
    },
    async end(runId) {
      const raw = await redis.get(keys(runId).end);
      return raw ? (JSON.parse(raw) as Extract<JournalEntry, { t: 'end' }>) : undefined;
    },
    async runIds() {
      return redis.zrevrange(runsIndexKey(prefix), 0, -1);
    },
    async activeRunIds() {
      return redis.smembers(activeRunsKey(prefix));
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** How many times a run was redriven: part of every idempotency field, so a redrive runs failed steps again. */
export function generationOf(entries: readonly JournalEntry[]): number {
  let n = 0;
  for (const e of entries) if (e.t === 'redrive') n++;
  return n;
}
