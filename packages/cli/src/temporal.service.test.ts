import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { baton, batonAsync, killStarted, startBaton, workdir } from './test-support/spawn.js';

afterEach(killStarted);

const address = inject('temporalAddress');
let n = 0;
/** Every test gets its own task queue, so one test's worker never takes another's runs. */
const temporal = (): string[] => ['--engine', 'temporal', '--temporal-address', address, '--task-queue', `cli-${process.pid}-${++n}`];
const REPORT = ['run', 'report', '--sources', 'sources', '--out', 'out/report'];

describe('baton on Temporal (dev server started by the test setup)', () => {
  it('runs the report with the in-process worker', async () => {
    const dir = workdir();
    const r = await batonAsync(dir, [...REPORT, ...temporal(), '--auto-approve']);
    expect(r.stderr).toContain('review gate "review" approved automatically');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\(report on temporal\): SUCCEEDED/);
    expect(r.stdout).toContain('sections: total 9, ok 9, failed 0');
    expect(existsSync(join(dir, 'out/report/report.docx'))).toBe(true);
    // the Temporal SDK's own log lines go to the JSON log, not the terminal
    expect(r.stderr).not.toContain('Worker state changed');
  });

  it('with --no-worker, a `baton worker` process runs the stages, prints the review token, and `baton approve` follows the run to its end', async () => {
    const dir = workdir();
    const engine = temporal();
    const run = startBaton(dir, [...REPORT, ...engine, '--no-worker']);
    const [, runId] = await run.waitFor(/run (report-[\w-]+) started/);
    const worker = startBaton(dir, ['worker', ...engine, '--review-notices', 'stdout']);
    await worker.waitFor(/temporal worker on 127\.0\.0\.1:\d+ \(namespace "default", task queue "cli-[\d-]+"\) ready/);
    const [, token] = await worker.waitFor(new RegExp(`baton approve ${runId} review --token (\\S+)`));
    const status = JSON.parse(baton(dir, ['status', runId!, '--json', ...engine]).stdout) as { status: string; pendingReviews: { gate: string }[] };
    expect(status.status).toBe('waiting');
    expect(status.pendingReviews.map((r) => r.gate)).toEqual(['review']);
    // the starting process stops at the gate (exit 4, waiting for review) with the review page: the notice went to the worker
    expect(await run.exited()).toBe(4);
    expect(run.stderr()).toContain(`review page: http://127.0.0.1:4680/reviews/${runId}/review`);
    const approve = await batonAsync(dir, ['approve', runId!, 'review', '--token', token!, '--no-worker', ...engine]);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toMatch(/SUCCEEDED/);
    expect(existsSync(join(dir, 'out/report/report.docx'))).toBe(true);
    worker.child.kill('SIGINT');
    expect(await worker.exited()).toBe(0);
    expect(worker.stdout()).toContain('worker stopped cleanly');
  });

  it('says what to do when the Temporal server is unreachable', () => {
    const dir = workdir();
    const r = baton(dir, [...REPORT, '--engine', 'temporal', '--temporal-address', '127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('baton: cannot reach the Temporal server at 127.0.0.1:1 (ECONNREFUSED)');
    expect(r.stderr).toContain('temporal server start-dev');
    const w = baton(dir, ['worker', '--engine', 'temporal'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(w.code).toBe(2);
    expect(w.stderr).toContain('--temporal-address');
  });
});
