import { createTemporalEngine } from '@baton/adapter-temporal';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { batonAsync, killStarted, startBaton, workdir, type BatonProcess } from './test-support/spawn.js';

afterEach(killStarted);

const redisUrl = inject('redisUrl');
const address = inject('temporalAddress');
let n = 0;
const bullmq = (): string[] => ['--engine', 'bullmq', '--redis-url', redisUrl, '--bullmq-prefix', `sig-${process.pid}-${++n}`];
const temporal = (): string[] => ['--engine', 'temporal', '--temporal-address', address, '--task-queue', `sig-${process.pid}-${++n}`];
const REPORT = ['run', 'report', '--sources', 'sources', '--out', 'out/report'];

async function stopWith(p: BatonProcess, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  p.child.kill(signal);
  const code = await p.exited();
  return { code, ms: Date.now() - t0 };
}

interface Status {
  status: string;
  pendingReviews: { gate: string }[];
  attempts: { stepPath: string; status: string }[];
}

async function statusOf(dir: string, runId: string, engine: string[]): Promise<Status> {
  const r = await batonAsync(dir, ['status', runId, '--json', ...engine]);
  return JSON.parse(r.stdout) as Status;
}

describe.each([
  ['bullmq', bullmq],
  ['temporal', temporal],
])('SIGINT/SIGTERM on %s (built CLI, real servers)', (name, connect) => {
  it('a follower (--no-worker) stops following on SIGTERM within 5 s with exit 5; the run goes on in a worker to its review gate, whose notice carries the review link', async () => {
    const dir = workdir();
    const engine = connect();
    const run = startBaton(dir, [...REPORT, ...engine, '--no-worker']);
    const [, runId] = await run.waitFor(/run (report-[\w-]+) started/);
    const { code, ms } = await stopWith(run, 'SIGTERM');
    expect(code).toBe(5);
    expect(ms).toBeLessThan(5000);
    expect(run.stderr()).toContain(`SIGTERM: stopped following run ${runId}; it goes on in the ${name} workers`);
    const worker = startBaton(dir, ['worker', ...engine, '--review-notices', `stdout,file:${join(dir, 'reviews.jsonl')}`]);
    await worker.waitFor(/review notices to stdout, file /);
    const [, link] = await worker.waitFor(
      new RegExp(`review gate "review" of run ${runId} opened: (http://127\\.0\\.0\\.1:4680/reviews/${runId}/review\\?token=\\S+)`),
    );
    const status = await statusOf(dir, runId!, engine);
    expect(status.status).toBe('waiting');
    // the configured file has the notice, and so has the state directory's notices file
    const [line] = readFileSync(join(dir, 'reviews.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { runId: string; reviewUrl: string; token: string });
    expect(line).toMatchObject({ runId, reviewUrl: link });
    expect(readFileSync(join(dir, '.baton/reviews/notices.jsonl'), 'utf8')).toContain(line!.token);
    // following again (resume) ends at the gate with exit 4, printing the review page
    const resumed = await batonAsync(dir, ['resume', runId!, ...engine, '--no-worker']);
    expect(resumed.code).toBe(4);
    expect(resumed.stdout + resumed.stderr).toContain(`review page: http://127.0.0.1:4680/reviews/${runId}/review`);
    const stopped = await stopWith(worker, 'SIGINT');
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(5000);
    expect(worker.stdout()).toContain('worker stopped cleanly');
  });

  it('a run with its in-process worker is interrupted by SIGTERM within 5 s (exit 143); its steps are handed back and a worker finishes them', async () => {
    const dir = workdir();
    const engine = connect();
    const run = startBaton(dir, [...REPORT, ...engine, '--offline-latency', '30000']);
    const [, runId] = await run.waitFor(/run (report-[\w-]+) started/);
    await new Promise((r) => setTimeout(r, 3000));
    const { code, ms } = await stopWith(run, 'SIGTERM');
    expect(code).toBe(143);
    expect(ms).toBeLessThan(5000);
    expect(run.stderr()).toContain(
      `SIGTERM: interrupted: run ${runId} stays in ${name}: steps in flight here are handed back to the other workers; continue it with: baton resume ${runId}`,
    );
    const worker = startBaton(dir, ['worker', ...engine]);
    await worker.waitFor(/ready/);
    const resumed = await batonAsync(dir, ['resume', runId!, ...engine, '--no-worker']);
    expect(resumed.code).toBe(4);
    expect((await statusOf(dir, runId!, engine)).status).toBe('waiting');
  }, 240_000);

  // on bullmq this also covers the driver race found here at stop 23: outcomes recorded by the
  // redelivered jobs beside a settle in flight were cached but never fed to the run's interpreter
  // (one section's validate never ran; adapter-bullmq test/driver.test.ts pins it)
  it('a worker stops on SIGTERM within 5 s; steps it could not finish are handed back (exit 3) and another worker finishes the run', async () => {
    const dir = workdir();
    const engine = connect();
    const run = startBaton(dir, [...REPORT, ...engine, '--no-worker']);
    const [, runId] = await run.waitFor(/run (report-[\w-]+) started/);
    // every model call takes 30 s: the one in flight at the signal cannot finish in the 4 s grace time
    const slow = startBaton(dir, ['worker', ...engine, '--offline-latency', '30000']);
    await slow.waitFor(/ready/);
    await new Promise((r) => setTimeout(r, 4000));
    const { code, ms } = await stopWith(slow, 'SIGTERM');
    expect(ms).toBeLessThan(5000);
    expect(code).toBe(3);
    expect(slow.stdout()).toContain('SIGTERM: stopping the worker');
    expect(slow.stdout()).toMatch(/worker stopped: .* step\(s\) handed back/);
    const next = startBaton(dir, ['worker', ...engine]);
    await next.waitFor(/ready/);
    // the follower is still following: it ends at the review gate (exit 4) once the next worker has done the rest
    expect(await run.exited()).toBe(4);
    expect((await statusOf(dir, runId!, engine)).status).toBe('waiting');
  }, 240_000);
});

describe('Temporal takeover after a worker dies (built CLI workers, dev server)', () => {
  it('a SIGKILLed worker holding the workflow is replaced within 2 s: approve returns and the run moves on', async () => {
    const dir = workdir();
    const engine = temporal();
    const taskQueue = engine[engine.indexOf('--task-queue') + 1]!;
    const holder = startBaton(dir, ['worker', ...engine, '--review-notices', 'stdout']);
    await holder.waitFor(/ready/);
    const run = startBaton(dir, [...REPORT, ...engine, '--no-worker']);
    const [, runId] = await run.waitFor(/run (report-[\w-]+) started/);
    const [, token] = await holder.waitFor(new RegExp(`baton approve ${runId} review --token (\\S+)`), 120_000);
    expect(await run.exited()).toBe(4);
    // the starting process never got the notice (Temporal delivers it in the worker): it followed the
    // run's status, printed the review page and the token the worker wrote in the shared state directory
    expect(run.stderr()).toContain(`review page: http://127.0.0.1:4680/reviews/${runId}/review`);
    expect(run.stderr()).toContain(`baton approve ${runId} review --token ${token} --engine temporal`);
    const spare = startBaton(dir, ['worker', ...engine]);
    await spare.waitFor(/ready/);
    holder.child.kill('SIGKILL');
    await holder.exited();
    const client = createTemporalEngine({ pipelines: [], address, taskQueue, worker: false });
    try {
      const t0 = Date.now();
      await client.approve(runId!, 'review', { token: token!, reviewer: 'alice' });
      const approveMs = Date.now() - t0;
      // the approval is an update the workflow handles: it returns once a live worker took the workflow over
      expect(approveMs).toBeLessThan(2000);
      const outcome = await client.result(runId!, { timeoutMs: 60_000 });
      expect(outcome.status).toBe('succeeded');
    } finally {
      await client.close();
    }
  }, 240_000);
});
