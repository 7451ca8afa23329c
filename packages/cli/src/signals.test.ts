import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baton, batonAsync, killStarted, startBaton, workdir } from './test-support/spawn.js';

afterEach(killStarted);

const RUN = ['run', 'report', '--engine', 'local', '--sources', 'sources', '--out', 'out/report'];

/** Sends `signal` and resolves with the exit code and how long the process took to exit. */
async function stopWith(p: ReturnType<typeof startBaton>, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  p.child.kill(signal);
  const code = await p.exited();
  return { code, ms: Date.now() - t0 };
}

describe('baton run exit codes (built CLI, local engine)', () => {
  it('0 succeeded, 4 waiting for review, 3 succeeded with missing sections, 1 failed; the summary says which', async () => {
    const dir = workdir();
    const ok = await batonAsync(dir, [...RUN, '--auto-approve']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('outcome: succeeded (exit 0)');
    const waiting = await batonAsync(dir, RUN);
    expect(waiting.code).toBe(4);
    expect(waiting.stdout).toContain('outcome: waiting for review (exit 4)');
    expect(waiting.stderr).toMatch(/review page: http:\/\/127\.0\.0\.1:4680\/reviews\/report-[\w-]+\/review/);
    // a section the model never answers validly ends as a placeholder
    const missing = await batonAsync(dir, [...RUN, '--auto-approve', '--faults', 'persistent-invalid=objectives']);
    expect(missing.stdout).toMatch(/sections: total 9, ok 8/);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toContain('outcome: succeeded with 1 missing section(s) (exit 3)');
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ sources: 'not a list' }));
    const failed = await batonAsync(dir, ['run', 'report', '--input', 'input.json', '--auto-approve']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('outcome: failed (exit 1)');
    const help = baton(dir, ['run', '--help']);
    for (const line of [
      '0    succeeded',
      '1    failed',
      '3    succeeded with missing sections',
      '4    waiting for review',
      '5    SIGINT/SIGTERM: this process stopped following',
    ])
      expect(help.stdout).toContain(line);
  });

  it('refuses options that cannot apply, at once, naming the process that would honour them (exit 2)', () => {
    const dir = workdir();
    const auto = baton(dir, ['run', 'report', '--engine', 'temporal', '--no-worker', '--auto-approve', '--temporal-address', '127.0.0.1:1']);
    expect(auto.code).toBe(2);
    expect(auto.stderr).toContain(
      '--auto-approve cannot act from `baton run --engine temporal --no-worker`: Temporal delivers the review token only to the `baton worker` process',
    );
    for (const engine of ['bullmq', 'temporal']) {
      const latency = baton(dir, [
        'run',
        'report',
        '--engine',
        engine,
        '--no-worker',
        '--offline-latency',
        '400',
        '--redis-url',
        'redis://127.0.0.1:1',
        '--temporal-address',
        '127.0.0.1:1',
      ]);
      expect(latency.code).toBe(2);
      expect(latency.stderr).toContain(
        `--offline-latency acts only where stages run: with --no-worker this process runs no stage; the \`baton worker --engine ${engine}\` processes run them`,
      );
    }
    const status = baton(dir, ['status', 'report-x', '--model', 'offline', '--faults', 'throttle=a']);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('--model, --faults act only where stages run: `baton status` runs none');
  });
});

describe('baton run and dashboard stop on SIGINT/SIGTERM within 5 s (built CLI, local engine)', () => {
  it('SIGTERM interrupts a local run (exit 143), status says interrupted with the resume command, resume finishes it', async () => {
    const dir = workdir();
    const p = startBaton(dir, [...RUN, '--auto-approve', '--offline-latency', '400']);
    const [, runId] = await p.waitFor(/run (report-[\w-]+) started/);
    await p.waitFor(/\[plan\] succeeded/);
    const { code, ms } = await stopWith(p, 'SIGTERM');
    expect(code).toBe(143);
    expect(ms).toBeLessThan(5000);
    expect(p.stderr()).toContain(`SIGTERM: interrupted: run ${runId} is saved in`);
    expect(p.stderr()).toContain(`continue it with: baton resume ${runId}`);
    const status = baton(dir, ['status', runId!]);
    expect(status.stdout).toContain(`run ${runId}: interrupted: the process driving it (pid ${p.child.pid} on`);
    expect(status.stdout).toContain(`Continue it with: baton resume ${runId}`);
    const resumed = await batonAsync(dir, ['resume', runId!]);
    expect(resumed.code).toBe(0);
    expect(existsSync(join(dir, 'out/report/report.docx'))).toBe(true);
    expect(baton(dir, ['status', runId!]).stdout).toContain(`run ${runId}: succeeded`);
  });

  it('SIGINT: exit 130; a SIGKILLed run is interrupted too (its lease names the dead pid); a running one is not', async () => {
    const dir = workdir();
    // slow model calls: the run is still going when the status below is read
    const p = startBaton(dir, [...RUN, '--auto-approve', '--offline-latency', '5000']);
    const [, runId] = await p.waitFor(/run (report-[\w-]+) started/);
    await p.waitFor(/\[plan\] succeeded/);
    const live = JSON.parse(baton(dir, ['status', runId!, '--json']).stdout) as { status: string; interrupted?: string };
    expect(live).toMatchObject({ status: 'running' });
    expect(live.interrupted).toBeUndefined();
    // a second process must not drive the same run
    const twice = baton(dir, ['resume', runId!]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(`run ${runId} is being driven by process ${p.child.pid} on`);
    expect((await stopWith(p, 'SIGINT')).code).toBe(130);

    const k = startBaton(dir, [...RUN, '--auto-approve', '--offline-latency', '400']);
    const [, killed] = await k.waitFor(/run (report-[\w-]+) started/);
    await k.waitFor(/\[plan\] succeeded/);
    k.child.kill('SIGKILL');
    await k.exited();
    const after = JSON.parse(baton(dir, ['status', killed!, '--json']).stdout) as { status: string; interrupted?: string };
    expect(after.status).toBe('running');
    expect(after.interrupted).toMatch(new RegExp(`^interrupted: the process driving it \\(pid ${k.child.pid} on .*Continue it with: baton resume ${killed}$`));
  });

  it('resuming a run that was never recorded says to start it again with the same --run-id, which is idempotent', async () => {
    const dir = workdir();
    const never = baton(dir, ['resume', 'report-never-started']);
    expect(never.code).toBe(2);
    expect(never.stderr).toContain('run "report-never-started" was never recorded');
    expect(never.stderr).toContain('baton run <pipeline> --run-id report-never-started');
    const first = await batonAsync(dir, [...RUN, '--auto-approve', '--run-id', 'report-never-started']);
    expect(first.code).toBe(0);
    const again = await batonAsync(dir, [...RUN, '--auto-approve', '--run-id', 'report-never-started']);
    expect(again.code).toBe(0);
    const info = JSON.parse(baton(dir, ['status', 'report-never-started', '--json']).stdout) as { attempts: { stepPath: string }[] };
    expect(info.attempts.filter((a) => a.stepPath === 'plan')).toHaveLength(1);
  });

  it('the dashboard stops on SIGTERM within 5 s with exit 0', async () => {
    const dir = workdir();
    const dash = startBaton(dir, ['dashboard', '--port', '0', '--token', 'dashboard-test-token-0123456789']);
    const [, url] = await dash.waitFor(/baton dashboard on (http:\/\/127\.0\.0\.1:\d+)\//);
    // a keep-alive connection open at the signal must not hold the server
    expect((await fetch(`${url}/login`)).status).toBe(200);
    const { code, ms } = await stopWith(dash, 'SIGTERM');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(5000);
    expect(dash.stdout()).toContain('SIGTERM: stopping the dashboard');
    expect(dash.stdout()).toContain('dashboard stopped');
  });
});
