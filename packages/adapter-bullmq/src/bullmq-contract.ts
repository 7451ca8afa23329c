import { createRequire } from 'node:module';
import { Job, type JobsOptions, type Queue } from 'bullmq';

// What the fused enqueue path relies on in BullMQ, checked at run time (and by
// test/bullmq-contract.test.ts): BullMQ's own add scripts, found by name, and the exact call
// BullMQ makes to them. When any of it differs, task jobs go through `Queue.addBulk` instead.

/** One of BullMQ's Lua scripts, as its build ships them (`dist/cjs/scripts`). */
export interface BullmqScript {
  name: string;
  content: string;
  keys: number;
}

/** BullMQ's scripts that add a job now and a delayed job. */
export interface BullmqAddScripts {
  standard: BullmqScript;
  delayed: BullmqScript;
}

/** A script call BullMQ would send: its command name (`<script>:<bullmq version>`), keys then arguments. */
export interface CapturedAdd {
  command: string;
  args: (string | Buffer)[];
}

/** The task queue's keys in the order BullMQ's `addStandardJob` takes them (the enqueue script passes them on). */
export const STANDARD_KEY_NAMES = ['wait', 'paused', 'meta', 'id', 'completed', 'delayed', 'active', 'events', 'marker'] as const;

/** The keys `addDelayedJob` takes, in its order; the enqueue script picks them from the standard ones. */
export const DELAYED_KEY_NAMES = ['marker', 'meta', 'id', 'delayed', 'completed', 'events'] as const;

/** ARGV of both add scripts: msgpacked arguments, the job data as JSON, msgpacked options. */
const ARGV_COUNT = 3;

/**
 * BullMQ's add scripts from its CommonJS build, by name (not by file name: the file names carry
 * the key count). `undefined` when the build does not have them where this version looked.
 */
export function loadBullmqAddScripts(): BullmqAddScripts | undefined {
  try {
    const all = createRequire(import.meta.url)('bullmq/dist/cjs/scripts/index.js') as Record<string, BullmqScript | undefined>;
    const standard = all.addStandardJob;
    const delayed = all.addDelayedJob;
    if (!standard?.content || !delayed?.content) return undefined;
    return { standard, delayed };
  } catch {
    return undefined;
  }
}

/**
 * Asks BullMQ to add a job through a client that records the script call instead of sending it:
 * keys and arguments are exactly what `Queue.add` sends. The data is left `{}`: the enqueue
 * script puts it together from the tasks it could claim.
 */
export async function captureAdd(queue: Queue, name: string, opts: JobsOptions & { jobId: string }): Promise<CapturedAdd | undefined> {
  let captured: CapturedAdd | undefined;
  const recorder = {
    runCommand: (command: string, args: (string | Buffer)[]) => {
      captured = { command, args };
      return Promise.resolve(opts.jobId);
    },
  };
  const backend = queue.backend as { addJobToTransaction?: (client: never, job: never, jobId: string) => Promise<unknown> } | undefined;
  if (typeof backend?.addJobToTransaction !== 'function') return undefined;
  const json = new Job(queue, name, {}, opts, opts.jobId).asJSON();
  await backend.addJobToTransaction(recorder as never, json as never, opts.jobId);
  return captured;
}

/** Whether the fused path can be used with this BullMQ, and why not. */
export type FusedContract = { ok: true; scripts: BullmqAddScripts } | { ok: false; reason: string };

/**
 * Checks everything the fused path relies on: both scripts found, BullMQ calling them by name
 * with their key counts, the keys in the order the enqueue script passes them, and three
 * arguments (msgpacked arguments, data JSON, msgpacked options) with the data where the script
 * puts its own.
 */
export async function checkFusedContract(queue: Queue, scripts: BullmqAddScripts | undefined = loadBullmqAddScripts()): Promise<FusedContract> {
  if (!scripts) return { ok: false, reason: "BullMQ's addStandardJob/addDelayedJob scripts were not found in bullmq/dist/cjs/scripts" };
  const k = queue.keys as Record<string, string | undefined>;
  const cases = [
    { script: scripts.standard, keyNames: STANDARD_KEY_NAMES, opts: {} },
    { script: scripts.delayed, keyNames: DELAYED_KEY_NAMES, opts: { delay: 1000 } },
  ];
  for (const c of cases) {
    let got: CapturedAdd | undefined;
    try {
      got = await captureAdd(queue, 'probe', { ...c.opts, jobId: 'baton-contract-probe' });
    } catch (e) {
      return { ok: false, reason: `capturing BullMQ's add call failed: ${(e as Error).message}` };
    }
    if (!got) return { ok: false, reason: "BullMQ's queue backend has no addJobToTransaction to capture" };
    if (got.command.split(':')[0] !== c.script.name) return { ok: false, reason: `BullMQ called ${got.command}, expected ${c.script.name}` };
    if (c.script.keys !== c.keyNames.length) return { ok: false, reason: `${c.script.name} takes ${c.script.keys} keys, expected ${c.keyNames.length}` };
    if (got.args.length !== c.keyNames.length + ARGV_COUNT)
      return { ok: false, reason: `${c.script.name} was called with ${got.args.length} keys and arguments, expected ${c.keyNames.length + ARGV_COUNT}` };
    const keys = c.keyNames.map((n) => k[n]);
    if (keys.some((key, i) => key === undefined || key !== got.args[i]))
      return { ok: false, reason: `${c.script.name}'s keys are not (${c.keyNames.join(', ')})` };
    const [packedArgs, data, packedOpts] = got.args.slice(c.keyNames.length);
    if (!Buffer.isBuffer(packedArgs) || data !== '{}' || !Buffer.isBuffer(packedOpts))
      return { ok: false, reason: `${c.script.name}'s arguments are not (msgpacked arguments, data JSON, msgpacked options)` };
    if (!c.script.content.includes('cmsgpack.unpack(ARGV[1])') || !c.script.content.includes('cmsgpack.unpack(ARGV[3])'))
      return { ok: false, reason: `${c.script.name} does not read its arguments as msgpack` };
  }
  return { ok: true, scripts };
}
