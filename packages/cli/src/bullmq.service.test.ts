import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { baton, batonAsync, killStarted, startBaton, workdir } from './test-support/spawn.js';

afterEach(killStarted);

const redisUrl = inject('redisUrl');
let n = 0;
/** Every test gets its own key prefix, so workers of one test never see another's runs. */
const bullmq = (): string[] => ['--engine', 'bullmq', '--redis-url', redisUrl, '--bullmq-prefix', `cli-${process.pid}-${++n}`];
const REPORT = ['run', 'report', '--sources', 'sources', '--out', 'out/report'];

describe('baton on BullMQ + Redis (redis-server started by the test setup)', () => {
  it('runs the report with the in-process worker and records every transition in the registry', async () => {
    const dir = workdir();
    const r = await batonAsync(dir, [...REPORT, ...bullmq(), '--auto-approve']);
    expect(r.stderr).toContain('review gate "review" approved automatically');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\(report on bullmq\): SUCCEEDED/);
    expect(r.stdout).toContain('sections: total 9, ok 9, failed 0');
    expect(existsSync(join(dir, 'out/report/report.docx'))).toBe(true);
    const runId = /Run (report-[\w-]+) /.exec(r.stdout)![1]!;
    const row = JSON.parse(baton(dir, ['status', runId, '--registry']).stdout) as {
      engine: string;
      status: string;
      attempts: { status: string }[];
      reviews: { decision: string }[];
    };
    expect(row.engine).toBe('bullmq');
    expect(row.status).toBe('succeeded');
    // 3 ingest-file + plan + 9 × (generate, validate) + open-review + apply-review + assemble + check-outcome + notify
    expect(row.attempts.filter((a) => a.status === 'succeeded')).toHaveLength(29);
    expect(row.reviews.map((x) => x.decision)).toEqual(['approved']);
  });

  it('a run started with --no-worker waits until a `baton worker` process does the work, and the worker stops cleanly on SIGTERM', async () => {
    const dir = workdir();
    const engine = bullmq();
    const run = startBaton(dir, [...REPORT, ...engine, '--no-worker', '--auto-approve']);
    // printed once engine.start() has returned (the run's journal exists)
    const started = await run.waitFor(/run (report-[\w-]+) started; state in/);
    // nothing runs the stages yet: the run stays at its first step
    await new Promise((r) => setTimeout(r, 1500));
    expect(run.child.exitCode).toBeNull();
    const status = baton(dir, ['status', started[1]!, '--json', ...engine]);
    expect(status.stderr).toBe('');
    const before = JSON.parse(status.stdout) as { status: string; attempts: unknown[] };
    expect(before.status).toBe('running');
    expect(before.attempts).toHaveLength(0);

    const worker = startBaton(dir, ['worker', ...engine]);
    await worker.waitFor(/bullmq worker on redis:\/\/127\.0\.0\.1:\d+ \(prefix "cli-[\d-]+"\) ready/);
    expect(await run.exited()).toBe(0);
    expect(run.stdout()).toMatch(/SUCCEEDED/);
    expect(existsSync(join(dir, 'out/report/report.docx'))).toBe(true);
    // the gate opened in the worker; the notice crossed to the run's process over Redis pub/sub
    expect(worker.stdout()).toContain(`review gate "review" of run ${started[1]} opened`);
    // issue 15: a worker prints review tokens only when asked (--review-notices stdout), never for an auto-approved run
    expect(worker.stdout()).toContain('token not printed');
    expect(worker.stdout()).not.toMatch(/--token|token=/);
    worker.child.kill('SIGTERM');
    expect(await worker.exited()).toBe(0);
    expect(worker.stdout()).toContain('SIGTERM: stopping the worker');
    expect(worker.stdout()).toContain('worker stopped cleanly');
  });

  it(
    "a SIGKILLed `baton worker`: the run says it is recovering the worker's steps, and they run again on another worker within 15 s",
    { timeout: 180_000 },
    async () => {
      const dir = workdir();
      // slow model calls: the killed worker is in the middle of some; lock and stalled check given as flags
      const engine = bullmq();
      const workerFlags = [...engine, '--offline-latency', '2500', '--bullmq-lock-ms', '5000', '--bullmq-stalled-ms', '2000'];
      const run = startBaton(dir, [...REPORT, ...engine, '--no-worker', '--auto-approve']);
      await run.waitFor(/run (report-[\w-]+) started; state in/);
      const doomed = startBaton(dir, ['worker', ...workerFlags]);
      await doomed.waitFor(/bullmq worker on .* ready/);
      await new Promise((r) => setTimeout(r, 6000));
      doomed.child.kill('SIGKILL');
      const killedAt = Date.now();
      const survivor = startBaton(dir, ['worker', ...workerFlags]);
      const [line, count] = await run.waitFor(/recovering (\d+) steps? from a stopped worker \(run report-[\w-]+: [^)]+\)/, 30_000);
      expect(Number(count)).toBeGreaterThan(0);
      expect(Date.now() - killedAt).toBeLessThan(15_000);
      // the step paths of the killed worker's jobs, e.g. "sections[3]/generate"
      expect(line).toMatch(/: \S+\/\S+/);
      expect(await run.exited()).toBe(0);
      expect(run.stdout()).toMatch(/SUCCEEDED/);
      survivor.child.kill('SIGTERM');
      await survivor.exited();
    },
  );

  it('refuses a lock or stalled-check interval that is not a number of milliseconds', () => {
    const r = baton(workdir(), ['run', 'report', '--engine', 'bullmq', '--bullmq-lock-ms', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--bullmq-lock-ms takes a whole number of milliseconds above 0');
  });

  it("the dashboard lists a waiting BullMQ run and its approval resumes the run on the dashboard's worker", async () => {
    const dir = workdir();
    const engine = bullmq();
    const waiting = await batonAsync(dir, [...REPORT, ...engine]);
    expect(waiting.code).toBe(4); // waiting for review
    const [, runId, token] = /baton approve (\S+) review --token (\S+)/.exec(waiting.stderr)!;
    const secret = 'bullmq-dashboard-token-0123456789';
    const dash = startBaton(dir, ['dashboard', '--port', '0', ...engine], { BATON_DASHBOARD_TOKEN: secret });
    const [, url] = await dash.waitFor(/baton dashboard on (http:\/\/127\.0\.0\.1:\d+)\/ \(registry: .*; engines: bullmq, local\)/);
    try {
      const auth = { authorization: `Bearer ${secret}` };
      expect(await (await fetch(`${url}/reviews`, { headers: auth })).text()).toContain(runId);
      const decided = await fetch(`${url}/reviews/${runId}/review`, {
        method: 'POST',
        redirect: 'manual',
        headers: auth,
        body: new URLSearchParams({ token: token!, decision: 'approve' }),
      });
      expect(decided.status).toBe(303);
      let head = '';
      for (let i = 0; i < 600 && !head.includes('badge succeeded">'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        head = (await (await fetch(`${url}/runs/${runId}`, { headers: auth })).text()).split('</h1>')[0] ?? '';
      }
      expect(head).toContain(`Run ${runId} <span class="badge succeeded">`);
    } finally {
      dash.child.kill('SIGTERM');
    }
    expect(await dash.exited()).toBe(0);
    const info = JSON.parse(baton(dir, ['status', runId!, '--json']).stdout) as { status: string; engine: string };
    expect(info).toMatchObject({ status: 'succeeded', engine: 'bullmq' });
  });

  it('says what to do when Redis is unreachable', () => {
    const dir = workdir();
    const r = baton(dir, [...REPORT, '--engine', 'bullmq', '--redis-url', 'redis://127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('baton: cannot reach Redis at 127.0.0.1:1 (ECONNREFUSED)');
    expect(r.stderr).toContain('--redis-url');
    const w = baton(dir, ['worker', '--engine', 'bullmq'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(w.code).toBe(2);
    expect(w.stderr).toContain('cannot reach Redis at 127.0.0.1:1');
    const bad = baton(dir, ['worker', '--engine', 'local']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('engine "local" has no separate workers. Run workers of: bullmq, temporal');
  });
});
