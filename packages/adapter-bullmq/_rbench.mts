import { randomBytes } from 'node:crypto';
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { startRedis } from './test/redis.js';
import { createTaskJobEncoder } from './src/enqueue.js';
import { redisOptionsOf } from './src/options.js';
import { createRunStore } from './src/store.js';
import type { TaskOrder } from './src/replay.js';
const server = await startRedis();
const rpid = execSync(`pgrep -f "redis-server.*${server.port}"`).toString().trim().split('\n')[0];
const rcpu = () => { const f = readFileSync(`/proc/${rpid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const prefix = 'rb' + randomBytes(3).toString('hex');
const store = createRunStore(server.url, prefix);
const queue = new Queue('task', { connection: redisOptionsOf(server.url), prefix });
const encoder = createTaskJobEncoder(queue);
const runId = 'wide-20261126235321-5ca14a4d';
const lockKey = `${prefix}:task:owner:lock`;
await store.redis.set(lockKey, 'tok-0123456789-0123456789-0123456789');
const owner = { jobId: 'owner', token: 'tok-0123456789-0123456789-0123456789', lockKey };
const task = (i: number): TaskOrder => ({ runId, pipeline: 'wide', gen: 0, stepPath: `items[${i}]/sleep`, stage: 'sleepy', input: { n: i }, attempt: 1, hash: '01ed23d51c328d41', delayMs: 0 });
const N = 8000, B = Number(process.env.B ?? 8);
let off = 0;
if (process.env.AOF === 'no') await store.redis.config('SET', 'appendonly', 'no');
if (process.env.NOP) (store.redis as any).defineCommand('batonEnqueue', { numberOfKeys: 13, lua: 'return {1, 0, {}, {}}' });
for (const round of [0, 1, 2]) {
const t0 = performance.now(); const c0 = rcpu(); const n0 = process.cpuUsage();
for (let k = 0; k < N; k += B) {
  const outcomes = Array.from({ length: B }, (_, j) => { const i = off + k + j; return { field: `task|items[${i}]/sleep#1@0`, running: `items[${i}]/sleep#1`, claim: `${runId}|task|0|items[${i}]/sleep|1`, entry: { t: 'task', path: `items[${i}]/sleep`, stage: 'sleepy', hash: '01ed23d51c328d41', attempt: 1, startedAt: '2026-11-26T23:53:21.285Z', at: '2026-11-26T23:53:21.341Z', metrics: { durationMs: 56, modelCalls: 0, inputTokens: 0, outputTokens: 0, modelLatencyMs: 0 }, ok: true, output: { n: i } } as never }; });
  const jobs = await Promise.all(Array.from({ length: B }, (_, j) => encoder.encodeInline(task(10 * N + off + k + j), owner)));
  await store.enqueue(runId, { outcomes, jobs, queueKeys: encoder.queueKeys });
}
off += N;
const cpu = process.cpuUsage(n0);
if (round) console.log(`${N / B} calls of ${B}+${B}: wall ${((performance.now() - t0) / (N / B) * 1000).toFixed(0)} us/call, redis cpu ${((rcpu() - c0) / (N / B) * 1000).toFixed(0)} us/call, node cpu ${((cpu.user + cpu.system) / (N / B)).toFixed(0)} us/call`);
}
await queue.close(); await store.close(); await server.stop();
