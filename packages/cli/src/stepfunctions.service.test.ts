import { createReviewToken } from '@baton/core/engine';
import { createPostgresRegistry, createRegistryObserver, createRegistryReviewStore, type RunRegistry } from '@baton/registry';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type * as FakeSfnModule from '../../adapter-stepfunctions/dist/client/test-support/fake-sfn.js';
import type * as HistoryModule from '../../adapter-stepfunctions/dist/client/test-support/history.js';
import { ROOT, batonAsync, killStarted, startBaton, workdir } from './test-support/spawn.js';

// The adapter's fake of the Step Functions JSON protocol and its AWS-shaped history writer: test
// support of @baton/adapter-stepfunctions, not among its exports, loaded from its build by path.
const support = join(ROOT, 'packages/adapter-stepfunctions/dist/client/test-support');
const { startFakeSfn, fakeMachineArn } = (await import(pathToFileURL(join(support, 'fake-sfn.js')).href)) as typeof FakeSfnModule;
const { HistoryWriter, lambdaFailure } = (await import(pathToFileURL(join(support, 'history.js')).href)) as typeof HistoryModule;

afterEach(killStarted);

const databaseUrl = inject('databaseUrl');
const SM = fakeMachineArn('report');
const execArn = (runId: string): string => `arn:aws:states:eu-west-1:123456789012:execution:report:${runId}`;
const INPUT = { sources: [{ key: 'sources/abc/protocol.txt', name: 'protocol.txt' }] };

describe('baton --engine stepfunctions (built CLI, a local Step Functions JSON endpoint, PostgreSQL review store)', () => {
  let fake: Awaited<ReturnType<typeof startFakeSfn>>;
  let registry: RunRegistry;
  let env: Record<string, string>;
  beforeAll(async () => {
    fake = await startFakeSfn();
    registry = await createPostgresRegistry({ connectionString: databaseUrl });
    env = { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_SFN: fake.url, AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK', DATABASE_URL: databaseUrl };
  });
  afterAll(async () => {
    await registry.close();
    await fake.close();
  });

  /** What the deployment does when a run reaches the gate: the gate Lambda's review row, the registry writer's run row. */
  async function gateOpened(runId: string, taskToken: string): Promise<string> {
    const { token, hash } = createReviewToken();
    const observer = createRegistryObserver(registry);
    await observer({
      type: 'run-started',
      runId,
      pipeline: 'report',
      engine: 'stepfunctions',
      executionId: execArn(runId),
      input: INPUT,
      at: new Date().toISOString(),
    });
    await observer.flush();
    const now = Date.now();
    await createRegistryReviewStore(registry).put({
      runId,
      executionArn: execArn(runId),
      gate: 'review',
      stepPath: 'review',
      payload: { reportTitle: 'Q3' },
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 3_600_000).toISOString(),
      tokenHash: hash,
      taskToken,
      status: 'open',
    });
    return token;
  }

  /** Scripts the execution: plan succeeds, the gate waits on `taskToken`; the answer ends the run. */
  function scriptRun(taskToken: string): void {
    fake.onStart = (e) => {
      const w = new HistoryWriter(e);
      let last = w.stageAttempt(w.started(), { state: 'plan', stage: 'plan', stepPath: 'plan', end: lambdaFailure('ThrottlingException', 'slow down', true) });
      w.tick(2);
      last = w.exited(
        w.stageAttempt(last, { state: 'plan', stage: 'plan', stepPath: 'plan', retryCount: 1, end: { output: { sections: [] } }, enter: false }),
        'plan',
      );
      const gate = w.gate(last, { state: 'review', gate: 'review', stepPath: 'review', taskToken });
      fake.tokens.set(taskToken, {
        executionArn: e.executionArn,
        answer: (a) => {
          const ended = w.end(gate, a.output ? { output: JSON.parse(a.output) as unknown } : { error: a.error!, cause: a.cause! });
          if (a.output) w.succeed(w.exited(ended, 'review'), { report: { sections: { total: 0 } } });
          else w.fail(ended, a.error!, a.cause!);
        },
      });
    };
  }

  it('runs to the review gate, approves through the review store and SendTaskSuccess, reports status and lists runs', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'input.json'), JSON.stringify(INPUT));
    scriptRun('TT-cli-1');
    const token = await gateOpened('sfn-cli-1', 'TT-cli-1');
    const run = await batonAsync(
      dir,
      ['run', 'report', '--engine', 'stepfunctions', '--state-machine-arn', SM, '--input', 'input.json', '--run-id', 'sfn-cli-1'],
      env,
    );
    expect(run.stderr).toContain('run sfn-cli-1 is waiting for review at gate "review"');
    expect(run.stderr).toContain('baton approve sfn-cli-1 review --token <token> --engine stepfunctions');
    expect(run.stderr).toContain('plan: attempt 1 FAILED ThrottlingException: slow down');
    expect(run.code).toBe(4); // waiting for review
    const started = fake.calls.find((c) => c.op === 'StartExecution')!;
    expect(JSON.parse(started.body.input as string)).toMatchObject({ ...INPUT, reviewerId: null, reportTitle: 'Clinical Study Report BTN-101' });

    const status = await batonAsync(dir, ['status', 'sfn-cli-1', '--json'], env);
    expect(status.code).toBe(0);
    const info = JSON.parse(status.stdout) as {
      status: string;
      engine: string;
      currentSteps: string[];
      retries: unknown[];
      pendingReviews: { gate: string }[];
    };
    expect(info).toMatchObject({ status: 'waiting', engine: 'stepfunctions', currentSteps: ['review'], pendingReviews: [{ gate: 'review' }] });
    expect(info.retries).toHaveLength(1);

    const wrong = await batonAsync(dir, ['approve', 'sfn-cli-1', 'review', '--token', 'not-it', '--no-wait'], env);
    expect(wrong.code).toBe(7);
    expect(wrong.stderr).toContain('approve failed: review token rejected for gate "review"');
    // the sidecar of `baton run` remembers the engine and the state machine
    const approved = await batonAsync(dir, ['approve', 'sfn-cli-1', 'review', '--token', token, '--reviewer', 'ana'], env);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/Run sfn-cli-1 \(report on stepfunctions\): SUCCEEDED/);
    expect(fake.calls.find((c) => c.op === 'SendTaskSuccess')?.body).toMatchObject({ taskToken: 'TT-cli-1' });
    expect((await registry.getReview('sfn-cli-1', 'review'))?.decidedBy).toBe('ana');
    const replay = await batonAsync(dir, ['approve', 'sfn-cli-1', 'review', '--token', token, '--no-wait'], env);
    expect(replay.code).toBe(8);
    expect(replay.stderr).toMatch(/approve failed: review token for gate "review" of run "sfn-cli-1" (was )?already used/);

    const list = await batonAsync(dir, ['list', '--engine', 'stepfunctions', '--state-machine-arn', SM], env);
    expect(list.stdout).toMatch(/sfn-cli-1 {2}succeeded report/);
  });

  it('redrives a failed execution with RedriveExecution and follows it to its end; an invalid input starts no execution', async () => {
    const dir = workdir();
    const flags = ['--engine', 'stepfunctions', '--state-machine-arn', SM];
    fake.onStart = (e) => {
      const w = new HistoryWriter(e);
      const failure = lambdaFailure('ServiceUnavailableException', 'model outage', true);
      w.fail(w.stageAttempt(w.started(), { state: 'plan', stage: 'plan', stepPath: 'plan', end: failure }), failure.error, failure.cause);
    };
    fake.onRedrive = (e) => setTimeout(() => Object.assign(e, { status: 'SUCCEEDED', output: '{"done":true}', stopDate: Date.now() / 1000 }), 300);
    writeFileSync(join(dir, 'input.json'), JSON.stringify(INPUT));
    const failed = await batonAsync(dir, ['run', 'report', ...flags, '--input', 'input.json', '--run-id', 'sfn-cli-2'], env);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('error: ServiceUnavailableException: model outage');
    const redriven = await batonAsync(dir, ['redrive', 'sfn-cli-2'], env);
    expect(redriven.code).toBe(0);
    expect(redriven.stdout).toMatch(/Run sfn-cli-2 \(report on stepfunctions\): SUCCEEDED/);
    expect(fake.calls.filter((c) => c.op === 'RedriveExecution')).toHaveLength(1);
    const again = await batonAsync(dir, ['redrive', 'sfn-cli-2'], env);
    expect(again.code).toBe(8);
    expect(again.stderr).toContain('redrive failed: run "sfn-cli-2" has not failed (it succeeded); only a failed run can be redriven');

    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ sources: [] }));
    const before = fake.calls.length;
    const bad = await batonAsync(dir, ['run', 'report', ...flags, '--input', 'bad.json', '--run-id', 'sfn-cli-bad'], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('error: InvalidInput: input of pipeline "report" is invalid');
    expect(fake.calls.slice(before).map((c) => c.op)).toEqual([]);
    expect((await registry.getRun('sfn-cli-bad'))?.status).toBe('failed');
  });

  it("the dashboard decides a deployed run's review through the engine (--engine stepfunctions)", async () => {
    const dir = workdir();
    scriptRun('TT-cli-3');
    const token = await gateOpened('sfn-cli-3', 'TT-cli-3');
    writeFileSync(join(dir, 'input.json'), JSON.stringify(INPUT));
    expect(
      (await batonAsync(dir, ['run', 'report', '--engine', 'stepfunctions', '--state-machine-arn', SM, '--input', 'input.json', '--run-id', 'sfn-cli-3'], env))
        .code,
    ).toBe(4); // waiting for review
    const TOKEN = 'dashboard-test-token-0123456789';
    const dash = startBaton(dir, ['dashboard', '--port', '0', '--token', TOKEN, '--engine', 'stepfunctions', '--state-machine-arn', SM], env);
    const [, url] = await dash.waitFor(/baton dashboard on (http:\/\/127\.0\.0\.1:\d+)\//);
    try {
      expect(dash.stdout()).toContain('engines: stepfunctions, local');
      const auth = { authorization: `Bearer ${TOKEN}` };
      const decided = await fetch(`${url}/reviews/sfn-cli-3/review`, {
        method: 'POST',
        redirect: 'manual',
        headers: auth,
        body: new URLSearchParams({ token, decision: 'reject', comment: 'wrong numbers' }),
      });
      expect(decided.status).toBe(303);
      const call = fake.calls.find((c) => c.op === 'SendTaskFailure' && c.body.taskToken === 'TT-cli-3');
      expect(call?.body).toMatchObject({ error: 'ApprovalRejected' });
      const replay = await fetch(`${url}/reviews/sfn-cli-3/review`, {
        method: 'POST',
        redirect: 'manual',
        headers: auth,
        body: new URLSearchParams({ token, decision: 'approve' }),
      });
      expect(replay.status).toBe(409);
    } finally {
      dash.child.kill('SIGINT');
    }
    expect(await dash.exited()).toBe(0);
  });
});
