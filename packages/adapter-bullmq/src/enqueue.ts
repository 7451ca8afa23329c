import { randomBytes } from 'node:crypto';
import { Job, type JobsOptions, type Queue } from 'bullmq';
// BullMQ's own Lua scripts that add a job, so that one script can journal outcomes and enqueue what they unlock
import { addDelayedJob } from 'bullmq/dist/cjs/scripts/addDelayedJob-6.js';
import { addStandardJob } from 'bullmq/dist/cjs/scripts/addStandardJob-9.js';
import { jobId } from './keys.js';
import type { TaskOrder } from './replay.js';

/** The data of a task job: one or more task attempts of one run, run side by side by one worker. */
export interface TaskJobData {
  tasks: TaskOrder[];
}

/** One task job to add: its tasks are claimed one by one, and the job carries those not claimed before. */
export interface EncodedTaskJob {
  kind: 'standard' | 'delayed';
  /** The 9 queue keys of BullMQ's `addStandardJob` script (the same for every job of a queue). */
  keys: string[];
  /** BullMQ's msgpacked add arguments and options. */
  args: string | Buffer;
  opts: string | Buffer;
  /** Per task: its claim (the attempt's job id) and its JSON. */
  tasks: { claim: string; json: string }[];
}

/** Encodes BullMQ task job adds without sending them. */
export interface TaskJobEncoder {
  /**
   * Groups tasks into jobs: tasks due now in jobs of at most `batchSize`, each delayed task in a
   * job of its own. Job ids are fresh: a task is enqueued once by its claim, not by its job id.
   */
  encode(tasks: readonly TaskOrder[], batchSize: number): Promise<EncodedTaskJob[]>;
}

/** Infrastructure retries of a job (Redis errors, lost workers); stage retries are the interpreter's. */
export const JOB_OPTIONS = { attempts: 10, backoff: { type: 'exponential', delay: 250 }, removeOnComplete: { count: 2000 }, removeOnFail: { count: 10000 } } as const;

/** Completed task jobs are kept an hour (what bull-board shows); a task is never enqueued twice anyway (its claim). */
export const TASK_JOB_OPTIONS = { ...JOB_OPTIONS, removeOnComplete: { age: 3600 } } as const;

/** Default of the worker option `taskBatchSize`. */
export const DEFAULT_TASK_BATCH_SIZE = 8;

/** The claim of a task attempt: at most one job ever carries it. */
export function taskClaim(t: Pick<TaskOrder, 'runId' | 'stepPath' | 'attempt' | 'gen'>): string {
  return jobId(t.runId, 'task', t.gen, t.stepPath, t.attempt);
}

/**
 * Creates an encoder that asks BullMQ to add each job through a client that records the script
 * call instead of running it: keys and arguments are exactly what `Queue.add` would send, so
 * BullMQ keeps owning its job format; only the moment of sending is Baton's.
 */
export function createTaskJobEncoder(queue: Queue): TaskJobEncoder {
  const encodeOne = async (name: string, opts: JobsOptions & { jobId: string }): Promise<{ kind: EncodedTaskJob['kind']; keys: string[]; args: string | Buffer; opts: string | Buffer }> => {
    let captured: { name: string; args: (string | Buffer)[] } | undefined;
    const recorder = {
      runCommand: (command: string, args: (string | Buffer)[]) => {
        captured = { name: command, args };
        return Promise.resolve(opts.jobId);
      },
    };
    // the data is put together by the script from the tasks it could claim
    const json = new Job(queue, name, {}, opts, opts.jobId).asJSON();
    await queue.scripts.addJob(recorder as never, json as never, json.opts as never, opts.jobId);
    const a = captured?.args ?? [];
    if (captured?.name.startsWith('addStandardJob:') && a.length === 12) return { kind: 'standard', keys: a.slice(0, 9) as string[], args: a[9]!, opts: a[11]! };
    if (captured?.name.startsWith('addDelayedJob:') && a.length === 9) return { kind: 'delayed', keys: [], args: a[6]!, opts: a[8]! };
    throw new Error(`unexpected BullMQ add call ${captured?.name ?? '(none)'}: the pinned BullMQ version changed its scripts`);
  };
  const standardKeys = (): string[] => {
    const k = queue.keys;
    return [k.wait!, k.paused!, k.meta!, k.id!, k.completed!, k.delayed!, k.active!, k.events!, k.marker!];
  };
  return {
    async encode(tasks, batchSize) {
      const groups: TaskOrder[][] = [];
      let open: TaskOrder[] | undefined;
      for (const t of tasks) {
        if (t.delayMs > 0) groups.push([t]);
        else {
          if (!open || open.length >= batchSize) groups.push((open = []));
          open.push(t);
        }
      }
      return Promise.all(
        groups.map(async (g) => {
          const first = g[0]!;
          const id = jobId(first.runId, 'tasks', randomBytes(6).toString('hex'));
          const enc = await encodeOne(g.every((t) => t.stage === first.stage) ? first.stage : 'tasks', { ...TASK_JOB_OPTIONS, jobId: id, ...(first.delayMs > 0 ? { delay: first.delayMs } : {}) });
          return { ...enc, keys: standardKeys(), tasks: g.map((t) => ({ claim: taskClaim(t), json: JSON.stringify(t) })) };
        }),
      );
    },
  };
}

/** Flattens encoded jobs into the script's arguments. */
export function taskJobArgs(jobs: readonly EncodedTaskJob[]): (string | Buffer | number)[] {
  const out: (string | Buffer | number)[] = [jobs.length];
  for (const j of jobs) {
    out.push(j.kind === 'standard' ? 's' : 'd', j.tasks.length, j.args, j.opts);
    for (const t of j.tasks) out.push(t.claim, t.json);
  }
  return out;
}

/**
 * Journals task outcomes and enqueues task jobs in one atomic step (one round trip).
 * KEYS: once, journal, running, then BullMQ's 9 queue keys (wait, paused, meta, id, completed,
 * delayed, active, events, marker).
 * ARGV: expected journal length (-1: no check), entry count, per entry (field, running field | '',
 * entry JSON); then job count, per job (kind s|d, task count, BullMQ args, BullMQ options, per task
 * (claim, task JSON)).
 * With an expected length, nothing is written when the journal is shorter, or when what was
 * appended since holds a start, end or redrive (the caller's plan would be wrong). Outcomes are
 * written only if none of their fields exists. A job carries the tasks whose claim is new, and is
 * not added when there are none.
 * Returns {status, journal length, entries appended since the expected length}: status 1 written,
 * 0 journal moved, -1 an outcome was already recorded.
 */
export const ENQUEUE_SCRIPT = `
local function bullmqAddStandardJob(KEYS, ARGV)
${addStandardJob.content}
end
local function bullmqAddDelayedJob(KEYS, ARGV)
${addDelayedJob.content}
end
local expect = tonumber(ARGV[1])
local ne = tonumber(ARGV[2])
for e = 0, ne - 1 do
  local rf = ARGV[4 + e * 3]
  if rf ~= '' then redis.call('HDEL', KEYS[3], rf) end
end
local len = redis.call('LLEN', KEYS[2])
local tail = {}
if expect >= 0 then
  if len < expect then return {0, len, tail} end
  if len > expect then
    tail = redis.call('LRANGE', KEYS[2], expect, -1)
    for _, raw in ipairs(tail) do
      local t = cjson.decode(raw).t
      if t == 'start' or t == 'end' or t == 'redrive' then return {0, len, {}} end
    end
  end
end
for e = 0, ne - 1 do
  if redis.call('HEXISTS', KEYS[1], ARGV[3 + e * 3]) == 1 then return {-1, len, {}} end
end
for e = 0, ne - 1 do
  redis.call('HSET', KEYS[1], ARGV[3 + e * 3], '1')
  len = redis.call('RPUSH', KEYS[2], ARGV[5 + e * 3])
end
local i = 3 + ne * 3
local nj = tonumber(ARGV[i])
i = i + 1
local standardKeys = {KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]}
local delayedKeys = {KEYS[12], KEYS[6], KEYS[7], KEYS[9], KEYS[8], KEYS[11]}
for _ = 1, nj do
  local kind, nt, args, opts = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  local kept = {}
  for _ = 1, nt do
    if redis.call('HSETNX', KEYS[1], 'job|' .. ARGV[i], '1') == 1 then kept[#kept + 1] = ARGV[i + 1] end
    i = i + 2
  end
  if #kept > 0 then
    local data = '{"tasks":[' .. table.concat(kept, ',') .. ']}'
    if kind == 's' then bullmqAddStandardJob(standardKeys, {args, data, opts})
    else bullmqAddDelayedJob(delayedKeys, {args, data, opts}) end
  end
end
return {1, len, tail}
`;
