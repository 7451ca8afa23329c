import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { silentLogger, type Logger } from '@baton/core';
import { captureAdd, checkFusedContract, loadBullmqAddScripts, type BullmqAddScripts } from './bullmq-contract.js';
import { jobId } from './keys.js';
import type { TaskOrder } from './replay.js';

/** The task job a worker runs in, to run a task inline after its own. */
export interface InlineOwner {
  /** The worker's task job. */
  jobId: string;
  /** The lock token the worker holds for it. */
  token: string;
  /** BullMQ's lock key of that job. */
  lockKey: string;
}

/** The data of a task job: one or more task attempts of one run, run side by side by one worker. */
export interface TaskJobData {
  tasks: TaskOrder[];
}

/** One task job to add: its tasks are claimed one by one, and the job carries those not claimed before. */
export interface EncodedTaskJob {
  /**
   * `standard`/`delayed`: added by BullMQ's own script inside the enqueue script (fused path).
   * `public`: claimed by the enqueue script and kept as a pending job, then added through
   * `Queue.addBulk` with a deterministic job id (see {@link addPendingJobs}).
   * `inline`: one task the caller runs itself if it still holds its job's lock, else a standard job.
   */
  kind: 'standard' | 'delayed' | 'public' | 'inline';
  /** BullMQ's msgpacked add arguments and options; `public`: the job's name and JSON options; empty for `inline`. */
  args: string | Buffer;
  opts: string | Buffer;
  /** Per task: its claim (the attempt's job id) and its JSON. */
  tasks: { claim: string; json: string }[];
  /** `inline`: the task's in-flight mark (`path#attempt` → JSON), set when the caller gets the task. */
  running?: { field: string; value: string };
  /** `inline`: the task job whose worker runs the task, if it still holds that job's lock. */
  owner?: InlineOwner;
}

/** How task jobs reach BullMQ: inside the enqueue script (`fused`) or through `Queue.addBulk` (`public`). */
export type EnqueuePath = 'fused' | 'public';

/** A task job claimed by the enqueue script on the public path, to add through `Queue.addBulk`. */
export interface PendingJob {
  /** Deterministic: `t|` + the claim of its first task (a claim is taken once, ever). */
  id: string;
  name: string;
  delay: number;
  data: TaskJobData;
}

/** Encodes BullMQ task job adds without sending them. */
export interface TaskJobEncoder {
  /** The 9 keys of the task queue that BullMQ's `addStandardJob` script takes (the enqueue script's too). */
  readonly queueKeys: readonly string[];
  /** The path in use, known once {@link TaskJobEncoder.ready} resolves. */
  readonly path: Promise<EnqueuePath>;
  /**
   * Groups tasks into jobs: tasks due now in jobs of at most `batchSize`, each delayed task in a
   * job of its own. Fused job ids are fresh: a task is enqueued once by its claim, not by its job id.
   */
  encode(tasks: readonly TaskOrder[], batchSize: number): Promise<EncodedTaskJob[]>;
  /** One due task for `owner`'s worker to run inline (see {@link ENQUEUE_SCRIPT}). */
  encodeInline(task: TaskOrder, owner: InlineOwner): EncodedTaskJob;
  /** Adds pending jobs through `Queue.addBulk` (deterministic ids: adding one twice is a no-op). */
  addPending(jobs: readonly PendingJob[]): Promise<void>;
}

/** Options of {@link createTaskJobEncoder}. */
export interface TaskJobEncoderOptions {
  /**
   * `auto`: the fused path when this BullMQ passes the contract check ({@link checkFusedContract}),
   * else `public` with one warning. `public`: always `Queue.addBulk`.
   * @default 'auto'
   */
  path?: 'auto' | 'public';
  /** Hears the one warning when the fused path is refused. @default silent */
  logger?: Logger;
  /** BullMQ's add scripts to check against (tests): @default those of the installed BullMQ */
  scripts?: BullmqAddScripts;
}

/** BullMQ backoff type of Baton's jobs: {@link jobBackoffMs}, which every worker registers. */
export const JOB_BACKOFF_TYPE = 'baton';
/** Longest wait before a failed job is tried again. */
export const JOB_BACKOFF_MAX_MS = 10_000;

/**
 * Wait before a failed job's next try: doubling from 250 ms, capped at {@link JOB_BACKOFF_MAX_MS},
 * with jitter (half to all of it), so workers failing together do not retry together.
 */
export function jobBackoffMs(attemptsMade: number): number {
  const ceiling = Math.min(JOB_BACKOFF_MAX_MS, 250 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * Infrastructure retries of a job (Redis errors, a replay that failed, a worker without the
 * stage); stage retries are the interpreter's. Jobs are idempotent and a run's progress is in its
 * jobs, so a job is never given up on: one that failed is tried again, at most
 * {@link JOB_BACKOFF_MAX_MS} later, for as long as it fails.
 */
export const JOB_OPTIONS = {
  attempts: 1_000_000,
  backoff: { type: JOB_BACKOFF_TYPE },
  removeOnComplete: { count: 2000 },
  removeOnFail: { count: 10000 },
} as const;

/** Completed task jobs are kept an hour (what bull-board shows); a task is never enqueued twice anyway (its claim). */
export const TASK_JOB_OPTIONS = { ...JOB_OPTIONS, removeOnComplete: { age: 3600 } } as const;

/** Default of the worker option `taskBatchSize`. */
export const DEFAULT_TASK_BATCH_SIZE = 25;

/** The claim of a task attempt: at most one job ever carries it. */
export function taskClaim(t: Pick<TaskOrder, 'runId' | 'stepPath' | 'attempt' | 'gen'>): string {
  return jobId(t.runId, 'task', t.gen, t.stepPath, t.attempt);
}

/**
 * Creates an encoder that asks BullMQ to add each job through a client that records the script
 * call instead of running it: keys and arguments are exactly what `Queue.add` would send, so
 * BullMQ keeps owning its job format; only the moment of sending is Baton's. When this BullMQ
 * does not make the call the enqueue script relies on, jobs go through `Queue.addBulk` instead.
 */
export function createTaskJobEncoder(queue: Queue, options: TaskJobEncoderOptions = {}): TaskJobEncoder {
  const logger = options.logger ?? silentLogger;
  const path: Promise<EnqueuePath> =
    options.path === 'public'
      ? Promise.resolve('public')
      : checkFusedContract(queue, options.scripts ?? loadBullmqAddScripts()).then((c) => {
          if (c.ok) return 'fused';
          logger.warn('BullMQ does not match what the fused enqueue script relies on: task jobs are added through Queue.addBulk', { reason: c.reason });
          return 'public';
        });
  // a refused check must not reject every encode: it only means the public path
  path.catch(() => undefined);
  const encodeFused = async (runId: string, name: string, opts: { delay?: number }): Promise<Pick<EncodedTaskJob, 'kind' | 'args' | 'opts'>> => {
    const id = jobId(runId, 'tasks', randomBytes(6).toString('hex'));
    const captured = await captureAdd(queue, name, { ...TASK_JOB_OPTIONS, ...opts, jobId: id });
    const a = captured?.args ?? [];
    if (captured?.command.startsWith('addStandardJob:') && a.length === 12) return { kind: 'standard', args: a[9]!, opts: a[11]! };
    if (captured?.command.startsWith('addDelayedJob:') && a.length === 9) return { kind: 'delayed', args: a[6]!, opts: a[8]! };
    throw new Error(`unexpected BullMQ add call ${captured?.command ?? '(none)'} after the contract check passed`);
  };
  const k = queue.keys;
  const queueKeys = [k.wait!, k.paused!, k.meta!, k.id!, k.completed!, k.delayed!, k.active!, k.events!, k.marker!];
  const encodeGroup = async (g: TaskOrder[], via: EnqueuePath): Promise<EncodedTaskJob> => {
    const first = g[0]!;
    const name = g.every((t) => t.stage === first.stage) ? first.stage : 'tasks';
    const tasks = g.map((t) => ({ claim: taskClaim(t), json: JSON.stringify(t) }));
    // the script names a public job after the first task it claims for it
    if (via === 'public') return { kind: 'public', args: name, opts: String(first.delayMs), tasks };
    return { ...(await encodeFused(first.runId, name, first.delayMs > 0 ? { delay: first.delayMs } : {})), tasks };
  };
  return {
    queueKeys,
    path,
    async encode(tasks, batchSize) {
      const via = await path;
      const groups: TaskOrder[][] = [];
      let open: TaskOrder[] | undefined;
      for (const t of tasks) {
        if (t.delayMs > 0) groups.push([t]);
        else {
          if (!open || open.length >= batchSize) groups.push((open = []));
          open.push(t);
        }
      }
      return Promise.all(groups.map((g) => encodeGroup(g, via)));
    },
    // no BullMQ arguments: an inline task is claimed or left to the caller, never added by the script
    encodeInline: (task, owner) => ({
      kind: 'inline',
      args: '',
      opts: '',
      tasks: [{ claim: taskClaim(task), json: '' }],
      owner,
      running: {
        field: `${task.stepPath}#${task.attempt}`,
        value: JSON.stringify({ path: task.stepPath, stage: task.stage, attempt: task.attempt, at: new Date().toISOString() }),
      },
    }),
    async addPending(jobs) {
      if (!jobs.length) return;
      await queue.addBulk(
        jobs.map((j) => ({ name: j.name, data: j.data, opts: { ...TASK_JOB_OPTIONS, jobId: j.id, ...(j.delay > 0 ? { delay: j.delay } : {}) } })),
      );
    },
  };
}

/** A task outcome as {@link ENQUEUE_SCRIPT} writes it: idempotency field, in-flight field, claim, entry JSON. */
export interface EnqueueOutcome {
  field: string;
  running: string;
  claim: string;
  entryJson: string;
}

const KIND_CODES = { standard: 's', delayed: 'd', public: 'p', inline: 'i' } as const;

/**
 * The script's arguments: everything in one JSON array (one Redis argument instead of a hundred:
 * measured, per-argument costs dominated a batch's write on both sides), then BullMQ's binary job
 * arguments, which the array refers to by their index in ARGV.
 */
export function enqueueArgs(expect: string, outcomes: readonly EnqueueOutcome[], jobs: readonly EncodedTaskJob[]): (string | Buffer)[] {
  const binary: Buffer[] = [];
  const bin = (v: string | Buffer): string | number => (Buffer.isBuffer(v) ? binary.push(v) + 1 : v);
  const data: (string | number)[] = [expect, outcomes.length];
  for (const o of outcomes) data.push(o.field, o.running, o.claim, o.entryJson);
  data.push(jobs.length);
  for (const j of jobs) {
    data.push(KIND_CODES[j.kind], j.tasks.length, bin(j.args), bin(j.opts));
    if (j.kind === 'inline') data.push(j.owner?.jobId ?? '', j.owner?.token ?? '', j.owner?.lockKey ?? '', j.running?.field ?? '', j.running?.value ?? '');
    for (const t of j.tasks) data.push(t.claim, t.json);
  }
  return [JSON.stringify(data), ...binary];
}

/**
 * Journals task outcomes and enqueues task jobs in one atomic step (one round trip).
 * KEYS: once, journal, running, inline, then BullMQ's 9 queue keys (wait, paused, meta, id,
 * completed, delayed, active, events, marker), then the run's pending jobs hash.
 * Arguments (packed in one JSON array, see {@link enqueueArgs}): expected journal
 * length (-1: no check; prefixed `=`: exactly that length), entry count, per entry (field, running
 * field | '', task claim | '', entry JSON); then job count, per job (kind s|d|p|i, task count, BullMQ args
 * (p: job name), BullMQ options (p: delay in ms), for kind i (owner job id, its lock token, its lock key, the task's in-flight
 * field and value), per task (claim, task JSON)).
 * With an expected length, nothing is written when the journal is shorter, or when what was
 * appended since holds a start, end or redrive (the caller's plan would be wrong). Outcomes are
 * written only if none of their fields exists. A job carries the tasks whose claim is new, and is
 * not added when there are none. A `p` job is not added: it is kept in the pending hash under a
 * deterministic id (`t|` + its first claimed task's claim) and returned, for the caller to add
 * through `Queue.addBulk` (a replay adds what a crashed caller left pending). An `i` job's task is claimed for its owner to run inline when the
 * owner still holds its job's lock (recorded in the inline hash against that job, so that a
 * redelivery of the job releases it) and marked in flight; it is neither claimed nor added when
 * the owner lost its lock (the caller enqueues it).
 * Returns \{status, journal length, entries appended since the expected length, per `i` job 1
 * inlined, 0 claimed before, 2 owner lost its lock, the pending `p` jobs as JSON\}: status 1
 * written, 0 journal moved, -1 an outcome was already recorded.
 * Without BullMQ's scripts (a BullMQ that does not ship them) `s` and `d` jobs fail the script.
 */
export const ENQUEUE_SCRIPT = enqueueScript(loadBullmqAddScripts());

function enqueueScript(bullmq: BullmqAddScripts | undefined): string {
  const missing = "return redis.error_reply('BullMQ add script not found: use the public enqueue path')";
  return `
local function bullmqAddStandardJob(KEYS, ARGV)
${bullmq?.standard.content ?? missing}
end
local function bullmqAddDelayedJob(KEYS, ARGV)
${bullmq?.delayed.content ?? missing}
end
-- A: the arguments as documented above; binary BullMQ arguments stay in ARGV, A holds their index
local A = cjson.decode(ARGV[1])
local function arg(v) if type(v) == 'number' then return ARGV[v] end return v end
local strict = string.sub(A[1], 1, 1) == '='
local expect = tonumber(strict and string.sub(A[1], 2) or A[1])
local ne = tonumber(A[2])
local fields, runs, claims, entries, marks = {}, {}, {}, {}, {}
for e = 0, ne - 1 do
  local b = 3 + e * 4
  fields[#fields + 1] = A[b]
  marks[#marks + 1] = A[b]
  marks[#marks + 1] = '1'
  if A[b + 1] ~= '' then runs[#runs + 1] = A[b + 1] end
  if A[b + 2] ~= '' then claims[#claims + 1] = A[b + 2] end
  entries[#entries + 1] = A[b + 3]
end
if #runs > 0 then redis.call('HDEL', KEYS[3], unpack(runs)) end
local len = redis.call('LLEN', KEYS[2])
local tail = {}
if expect >= 0 then
  if len < expect or (strict and len ~= expect) then return {0, len, tail, {}, {}} end
  if len > expect then
    tail = redis.call('LRANGE', KEYS[2], expect, -1)
    for _, raw in ipairs(tail) do
      local t = cjson.decode(raw).t
      if t == 'start' or t == 'end' or t == 'redrive' then return {0, len, {}, {}, {}} end
    end
  end
end
if ne > 0 then
  for _, v in ipairs(redis.call('HMGET', KEYS[1], unpack(fields))) do
    if v then return {-1, len, {}, {}, {}} end
  end
  redis.call('HSET', KEYS[1], unpack(marks))
  if #claims > 0 then redis.call('HDEL', KEYS[4], unpack(claims)) end
  len = redis.call('RPUSH', KEYS[2], unpack(entries))
end
local i = 3 + ne * 4
local nj = tonumber(A[i])
i = i + 1
-- read every job's tasks first: their claims are checked with one HMGET and set with one HSET
local jobs, claimFields = {}, {}
for _ = 1, nj do
  local job = {kind = A[i], nt = tonumber(A[i + 1]), args = arg(A[i + 2]), opts = arg(A[i + 3]), first = #claimFields + 1}
  i = i + 4
  if job.kind == 'i' then
    job.owner, job.token, job.lockKey, job.rf, job.rv = A[i], A[i + 1], A[i + 2], A[i + 3], A[i + 4]
    i = i + 5
  end
  job.at = i
  for t = 0, job.nt - 1 do claimFields[#claimFields + 1] = 'job|' .. A[i + 2 * t] end
  i = i + 2 * job.nt
  jobs[#jobs + 1] = job
end
-- a claim is new when Redis does not hold it and no earlier job of this call took it
local claimed = {}
for c = 1, #claimFields, 1000 do
  local got = redis.call('HMGET', KEYS[1], unpack(claimFields, c, math.min(c + 999, #claimFields)))
  for j = 1, #got do if got[j] then claimed[claimFields[c + j - 1]] = true end end
end
local newClaims, inlineClaims, runningMarks = {}, {}, {}
local take = function(field)
  if claimed[field] then return false end
  claimed[field] = true
  newClaims[#newClaims + 1] = field
  newClaims[#newClaims + 1] = '1'
  return true
end
local standardKeys = {KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13]}
local delayedKeys = {KEYS[13], KEYS[7], KEYS[8], KEYS[10], KEYS[9], KEYS[12]}
local inlined, locks, adds, pending, pendingJson = {}, {}, {}, {}, {}
for _, job in ipairs(jobs) do
  if job.kind == 'i' then
    if locks[job.lockKey] == nil then locks[job.lockKey] = redis.call('GET', job.lockKey) end
    if locks[job.lockKey] ~= job.token then
      inlined[#inlined + 1] = 2
    elseif take(claimFields[job.first]) then
      inlineClaims[#inlineClaims + 1] = A[job.at]
      inlineClaims[#inlineClaims + 1] = job.owner
      if job.rf ~= '' then
        runningMarks[#runningMarks + 1] = job.rf
        runningMarks[#runningMarks + 1] = job.rv
      end
      inlined[#inlined + 1] = 1
    else
      inlined[#inlined + 1] = 0
    end
  else
    local kept, firstKept = {}, nil
    for t = 0, job.nt - 1 do
      if take(claimFields[job.first + t]) then
        kept[#kept + 1] = A[job.at + 2 * t + 1]
        firstKept = firstKept or A[job.at + 2 * t]
      end
    end
    if #kept > 0 then
      local data = '{"tasks":[' .. table.concat(kept, ',') .. ']}'
      if job.kind == 'p' then
        local id = 't|' .. firstKept
        local value = '{"id":' .. cjson.encode(id) .. ',"name":' .. cjson.encode(job.args) .. ',"delay":' .. tonumber(job.opts) .. ',"data":' .. data .. '}'
        pending[#pending + 1] = id
        pending[#pending + 1] = value
        pendingJson[#pendingJson + 1] = value
      else
        adds[#adds + 1] = {job = job, data = data}
      end
    end
  end
end
local function hsetAll(key, list)
  for c = 1, #list, 1000 do redis.call('HSET', key, unpack(list, c, math.min(c + 999, #list))) end
end
hsetAll(KEYS[1], newClaims)
hsetAll(KEYS[4], inlineClaims)
hsetAll(KEYS[3], runningMarks)
hsetAll(KEYS[14], pending)
for _, a in ipairs(adds) do
  if a.job.kind == 'd' then bullmqAddDelayedJob(delayedKeys, {a.job.args, a.data, a.job.opts})
  else bullmqAddStandardJob(standardKeys, {a.job.args, a.data, a.job.opts}) end
end
return {1, len, tail, inlined, pendingJson}
`;
}

/**
 * Releases the inline claims of a task job that is being delivered again (its worker died or lost
 * the lock): the tasks it was running inline can be enqueued again by the next replay.
 * KEYS: once, inline. ARGV: task job id. Returns how many were released.
 */
export const RELEASE_INLINE_SCRIPT = `
local all = redis.call('HGETALL', KEYS[2])
local n = 0
for i = 1, #all, 2 do
  if all[i + 1] == ARGV[1] then
    redis.call('HDEL', KEYS[1], 'job|' .. all[i])
    redis.call('HDEL', KEYS[2], all[i])
    n = n + 1
  end
end
return n
`;
