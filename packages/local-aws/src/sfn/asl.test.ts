import {
  CreateStateMachineCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskHeartbeatCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLE_ARN, startHarness, type Harness } from '../test-support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'local-sfn-asl-'));
const fn = (name: string, body: string) => {
  writeFileSync(join(dir, `${name}.mjs`), body);
  return { name, entry: join(dir, `${name}.mjs`), environment: {}, timeoutSeconds: 10 };
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    functions: [
      fn('echo', 'export const handler = async (event) => event;'),
      fn('sleepy', 'export const handler = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return "late"; };'),
      { ...fn('crashing', 'export const handler = async () => process.exit(7);') },
    ],
  });
});
afterAll(async () => {
  await h?.close();
});

const create = async (name: string, definition: object): Promise<string> =>
  (await h.client.send(new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: ROLE_ARN }))).stateMachineArn!;
const types = (events: HistoryEvent[]): string[] => events.map((e) => e.type!);

describe('startLocalStepFunctions: hand-written ASL', () => {
  it('runs Wait (scaled by timeScale), Parallel, a plain function ARN, Choice and Succeed, with their history events and the context object', async () => {
    const sm = await create('shapes', {
      StartAt: 'wait',
      States: {
        wait: { Type: 'Wait', Seconds: 20, Next: 'both' },
        both: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'echo',
              States: {
                echo: {
                  Type: 'Task',
                  Resource: h.lambda.arnOf('echo'),
                  Parameters: {
                    'name.$': '$$.Execution.Name',
                    'machine.$': '$$.StateMachine.Name',
                    'state.$': '$$.State.Name',
                    'retry.$': "States.Format('retry {}', $$.State.RetryCount)",
                    'entered.$': '$$.State.EnteredTime',
                  },
                  End: true,
                },
              },
            },
            { StartAt: 'two', States: { two: { Type: 'Pass', Result: 2, End: true } } },
          ],
          Next: 'choose',
        },
        choose: { Type: 'Choice', Choices: [{ Variable: '$[1]', NumericEquals: 2, Next: 'done' }], Default: 'wrong' },
        wrong: { Type: 'Fail', Error: 'Wrong', Cause: 'the Pass branch did not give 2' },
        done: { Type: 'Succeed' },
      },
    });
    const started = Date.now();
    const arn = await h.start(sm, { any: 'input' }, 'shapes-1');
    const done = await h.settled(arn);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(done.status).toBe('SUCCEEDED');
    const [echoed, two] = JSON.parse(done.output!) as [Record<string, string>, number];
    expect(two).toBe(2);
    expect(echoed).toMatchObject({ name: 'shapes-1', machine: 'shapes', state: 'echo', retry: 'retry 0' });
    expect(Date.parse(echoed.entered!)).toBeGreaterThanOrEqual(started - 1000);
    const events = types(await h.history(arn));
    const from = events.indexOf('ParallelStateStarted') + 1;
    const to = events.indexOf('ParallelStateSucceeded');
    expect(events.slice(from, to).sort()).toEqual(
      [
        'TaskStateEntered',
        'LambdaFunctionScheduled',
        'LambdaFunctionStarted',
        'LambdaFunctionSucceeded',
        'TaskStateExited',
        'PassStateEntered',
        'PassStateExited',
      ].sort(),
    );
    expect([...events.slice(0, from), ...events.slice(to)]).toEqual([
      'ExecutionStarted',
      'WaitStateEntered',
      'WaitStateExited',
      'ParallelStateEntered',
      'ParallelStateStarted',
      'ParallelStateSucceeded',
      'ParallelStateExited',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('times a Task out after TimeoutSeconds (TaskTimedOut), retries States.Timeout, then catches it', async () => {
    const sm = await create('slow-task', {
      StartAt: 'slow',
      States: {
        slow: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'sleepy', Payload: { ms: 2500 } },
          TimeoutSeconds: 1,
          Retry: [{ ErrorEquals: ['States.Timeout'], IntervalSeconds: 1, MaxAttempts: 1 }],
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'after' }],
          Next: 'after',
        },
        after: { Type: 'Pass', End: true },
      },
    });
    const done = await h.settled(await h.start(sm, {}, 'slow-1'));
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ error: { Error: 'States.Timeout' } });
    const events = await h.history(done.executionArn!);
    const task = types(events).filter((t) => t.startsWith('Task'));
    expect(task).toEqual([
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskTimedOut',
      'TaskScheduled',
      'TaskStarted',
      'TaskTimedOut',
      'TaskStateExited',
    ]);
    expect(events.find((e) => e.type === 'TaskScheduled')!.taskScheduledEventDetails!.timeoutInSeconds).toBe(1);
    expect(events.find((e) => e.type === 'TaskTimedOut')!.taskTimedOutEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      error: 'States.Timeout',
    });
  });

  it("fails the execution with a crashed function's Runtime.ExitError and its error body as cause", async () => {
    const sm = await create('crash', {
      StartAt: 'crash',
      States: {
        crash: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: h.lambda.arnOf('crashing'), Payload: {} }, End: true },
      },
    });
    const done = await h.settled(await h.start(sm, {}));
    expect(done).toMatchObject({ status: 'FAILED', error: 'Runtime.ExitError' });
    expect(JSON.parse(done.cause!)).toMatchObject({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringMatching(/Runtime exited with error: exit status 7$/),
    });
    expect((await h.history(done.executionArn!)).at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error: 'Runtime.ExitError' },
    });
  });

  it('fails a waiting Task whose heartbeat stops with States.HeartbeatTimeout; heartbeats keep it alive', async () => {
    const sm = await create('heartbeat', {
      StartAt: 'wait',
      States: {
        wait: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: 'echo', Payload: { 'token.$': '$$.Task.Token' } },
          HeartbeatSeconds: 1,
          End: true,
        },
      },
    });
    const arn = await h.start(sm, {});
    const token = await h.waitForEvent(arn, (events) => {
      const s = events.find((e) => e.type === 'TaskSubmitted');
      return s ? (JSON.parse(s.taskSubmittedEventDetails!.output!) as { Payload: { token: string } }).Payload.token : undefined;
    });
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
      await h.client.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    }
    expect((await h.settled(arn)).error).toBe('States.HeartbeatTimeout');
    await expect(h.client.send(new SendTaskHeartbeatCommand({ taskToken: token }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
  });

  it('pages GetExecutionHistory (both orders) and ListExecutions, newest first', async () => {
    const sm = await create('pass-through', { StartAt: 'p', States: { p: { Type: 'Pass', Next: 'q' }, q: { Type: 'Pass', End: true } } });
    const arns = [];
    for (const name of ['e1', 'e2', 'e3']) arns.push(await h.start(sm, { name }, name));
    for (const arn of arns) await h.settled(arn);
    const all = await h.history(arns[0]!);
    expect(types(all)).toEqual(['ExecutionStarted', 'PassStateEntered', 'PassStateExited', 'PassStateEntered', 'PassStateExited', 'ExecutionSucceeded']);
    const first = await h.client.send(
      new GetExecutionHistoryCommand({ executionArn: arns[0], maxResults: 4, reverseOrder: true, includeExecutionData: false }),
    );
    expect(first.events!.map((e) => e.id)).toEqual([6, 5, 4, 3]);
    expect(first.events![0]!.executionSucceededEventDetails).toEqual({ outputDetails: { truncated: false } });
    const second = await h.client.send(
      new GetExecutionHistoryCommand({ executionArn: arns[0], maxResults: 4, reverseOrder: true, nextToken: first.nextToken }),
    );
    expect(second.events!.map((e) => e.id)).toEqual([2, 1]);
    expect(second.nextToken).toBeUndefined();
    const page1 = await h.client.send(new ListExecutionsCommand({ stateMachineArn: sm, maxResults: 2 }));
    const page2 = await h.client.send(new ListExecutionsCommand({ stateMachineArn: sm, maxResults: 2, nextToken: page1.nextToken }));
    expect([...page1.executions!, ...page2.executions!].map((e) => e.name)).toEqual(['e3', 'e2', 'e1']);
    expect(page2.nextToken).toBeUndefined();
    expect((await h.client.send(new ListExecutionsCommand({ stateMachineArn: sm, statusFilter: 'FAILED' }))).executions).toEqual([]);
    expect(await h.client.send(new DescribeStateMachineCommand({ stateMachineArn: sm }))).toMatchObject({
      name: 'pass-through',
      type: 'STANDARD',
      status: 'ACTIVE',
      roleArn: ROLE_ARN,
    });
  });

  it('times the execution out after its TimeoutSeconds (TIMED_OUT, redrivable)', async () => {
    const sm = await create('too-long', { TimeoutSeconds: 1, StartAt: 'wait', States: { wait: { Type: 'Wait', Seconds: 1000, End: true } } });
    const done = await h.settled(await h.start(sm, {}));
    expect(done).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout', redriveStatus: 'REDRIVABLE' });
    expect((await h.history(done.executionArn!)).at(-1)).toMatchObject({
      type: 'ExecutionTimedOut',
      executionTimedOutEventDetails: { error: 'States.Timeout' },
    });
  });

  it('refuses what the service refuses at CreateStateMachine', async () => {
    await expect(create('broken', { StartAt: 'nowhere', States: { p: { Type: 'Pass', End: true } } })).rejects.toMatchObject({ name: 'InvalidDefinition' });
    await expect(h.client.send(new CreateStateMachineCommand({ name: 'bad-json', definition: '{', roleArn: ROLE_ARN }))).rejects.toMatchObject({
      name: 'InvalidDefinition',
    });
    const definition = { StartAt: 'p', States: { p: { Type: 'Pass', End: true } } };
    const arn = await create('once', definition);
    expect(await create('once', definition)).toBe(arn);
    await expect(create('once', { ...definition, Comment: 'changed' })).rejects.toMatchObject({ name: 'StateMachineAlreadyExists' });
  });
});
