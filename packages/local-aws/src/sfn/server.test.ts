import {
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { definePipeline, type AnyPipeline } from '@baton/core';
import { conformancePipelines, createProbeDir, readProbe, setProbeFlag, startCounts } from '@baton/core/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../test-support/harness.js';

const kit = (name: string): AnyPipeline => conformancePipelines.find((p) => p.name === name)!;
const types = (events: HistoryEvent[]): string[] => events.map((e) => e.type!);
const params = (events: HistoryEvent[], resource = 'invoke'): { FunctionName: string; Payload: Record<string, unknown> }[] =>
  events
    .filter((e) => e.type === 'TaskScheduled' && e.taskScheduledEventDetails?.resource === resource)
    .map((e) => JSON.parse(e.taskScheduledEventDetails!.parameters!) as never);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('startLocalStepFunctions: a compiled pipeline through @aws-sdk/client-sfn', () => {
  it('runs a sequence to SUCCEEDED, with AWS history events and status-change events', async () => {
    const sm = await h.deploy(kit('kit-sequence'));
    const arn = await h.start(sm, { probe: createProbeDir(), value: 1, label: 'x' }, 'seq-1');
    const done = await h.settled(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ a: { value: 2 }, b: { value: 3 }, c: { value: 4, seen: 'x' } });
    expect(done.stopDate!.getTime()).toBeGreaterThanOrEqual(done.startDate!.getTime());
    const events = await h.history(arn);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(types(events)).toEqual([
      'ExecutionStarted',
      ...['a', 'b', 'c'].flatMap(() => ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited']),
      'ExecutionSucceeded',
    ]);
    expect(events[1]!.stateEnteredEventDetails).toMatchObject({ name: 'a' });
    expect(events[2]!.taskScheduledEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke', region: 'us-east-1' });
    expect(params(events).map((p) => [p.FunctionName, p.Payload.stepPath, p.Payload.retryCount, p.Payload.executionId])).toEqual([
      [h.lambda.arnOf('baton-kit-step'), 'a', 0, arn],
      [h.lambda.arnOf('baton-kit-step'), 'b', 0, arn],
      [h.lambda.arnOf('baton-kit-step'), 'c', 0, arn],
    ]);
    const succeeded = JSON.parse(events[4]!.taskSucceededEventDetails!.output!) as Record<string, unknown>;
    expect(succeeded).toMatchObject({ ExecutedVersion: '$LATEST', StatusCode: 200, Payload: { a: { value: 2 } } });
    expect(events.at(-1)!.previousEventId).toBe(events.length - 1);
    expect(h.events.filter((e) => e.detail.executionArn === arn).map((e) => e.detail.status)).toEqual(['RUNNING', 'SUCCEEDED']);
  });

  it("retries a failing task with the definition's retrier: every attempt in the history, retryCount in the Task parameters", async () => {
    const sm = await h.deploy(kit('kit-retry'));
    const arn = await h.start(sm, { probe: createProbeDir() });
    const done = await h.settled(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ flaky: { attempts: 3 } });
    const events = await h.history(arn);
    expect(types(events).filter((t) => t.startsWith('Task'))).toEqual([
      'TaskStateEntered',
      ...['TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded'],
      'TaskStateExited',
    ]);
    expect(params(events).map((p) => p.Payload.retryCount)).toEqual([0, 1, 2]);
    const failed = events.filter((e) => e.type === 'TaskFailed').map((e) => e.taskFailedEventDetails!);
    expect(failed.map((f) => f.error)).toEqual(['ThrottlingException', 'ThrottlingException']);
    // the cause is the function's error body, as the lambda:invoke integration reports it
    expect(JSON.parse(failed[0]!.cause!)).toMatchObject({ errorType: 'ThrottlingException', errorMessage: expect.stringContaining('on attempt 1') });
  });

  it('pauses at a .waitForTaskToken gate until SendTaskSuccess; a used or unknown token is refused as the service refuses it', async () => {
    const sm = await h.deploy(kit('kit-approval'));
    const arn = await h.start(sm, { probe: createProbeDir() });
    // the gate's Lambda has run (TaskSubmitted): the Task now waits for its token
    const token = await h.waitForEvent(arn, (events) =>
      events.some((e) => e.type === 'TaskSubmitted') ? (params(events, 'invoke.waitForTaskToken')[0]?.Payload.taskToken as string) : undefined,
    );
    expect(token).toMatch(/^AQ[A-Za-z0-9+/=]{200,}$/);
    const events = await h.history(arn);
    expect(types(events).slice(-2)).toEqual(['TaskStarted', 'TaskSubmitted']);
    expect((await h.client.send(new ListExecutionsCommand({ stateMachineArn: sm, statusFilter: 'RUNNING' }))).executions!.map((e) => e.executionArn)).toContain(
      arn,
    );
    await h.client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true, reviewer: 'ann' }) }));
    const done = await h.settled(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ review: { approved: true, reviewer: 'ann' }, published: { value: 3 } });
    await expect(h.client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
    await expect(h.client.send(new SendTaskFailureCommand({ taskToken: 'AQnot-a-token', error: 'ApprovalRejected' }))).rejects.toMatchObject({
      name: 'InvalidToken',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it("fails the gate Task with SendTaskFailure's error and cause, which its catcher takes", async () => {
    const sm = await h.deploy(kit('kit-approval'));
    const arn = await h.start(sm, { probe: createProbeDir() });
    const token = await h.waitForEvent(arn, (events) => params(events, 'invoke.waitForTaskToken')[0]?.Payload.taskToken as string | undefined);
    const cause = JSON.stringify({ code: 'ApprovalRejected', message: 'gate "review" rejected by bob', retryable: false });
    await h.client.send(new SendTaskFailureCommand({ taskToken: token, error: 'ApprovalRejected', cause }));
    const done = await h.settled(arn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ handled: { handled: 'ApprovalRejected', message: 'gate "review" rejected by bob' } });
    const failed = (await h.history(arn)).find((e) => e.type === 'TaskFailed')!.taskFailedEventDetails!;
    expect(failed).toMatchObject({ resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error: 'ApprovalRejected', cause });
  });

  it('starts an execution once per name: the same input while running is the same execution, another input or a closed one is ExecutionAlreadyExists', async () => {
    const sm = await h.deploy(kit('kit-approval'));
    const input = JSON.stringify({ probe: createProbeDir() });
    const first = await h.client.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'run-once', input }));
    const again = await h.client.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'run-once', input }));
    expect(again).toMatchObject({ executionArn: first.executionArn, startDate: first.startDate });
    await expect(h.client.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'run-once', input: '{"probe":"other"}' }))).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
    const stopped = await h.client.send(new StopExecutionCommand({ executionArn: first.executionArn, error: 'Operator', cause: 'not needed' }));
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const done = await h.settled(first.executionArn!);
    expect(done).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'not needed', redriveStatus: 'REDRIVABLE' });
    expect((await h.history(first.executionArn!)).at(-1)).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Operator', cause: 'not needed' },
    });
    await expect
      .poll(() => h.events.filter((e) => e.detail.executionArn === first.executionArn).map((e) => [e.detail.status, e.detail.error]))
      .toEqual([
        ['RUNNING', null],
        ['ABORTED', 'Operator'],
      ]);
    await expect(h.client.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'run-once', input }))).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
    await expect(h.client.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'bad name', input }))).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(h.client.send(new StartExecutionCommand({ stateMachineArn: sm, input: '{' }))).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
  });

  it('redrives a failed execution: only the failed map item runs again, completed steps and items are not re-run', async () => {
    const strict = kit('kit-map-strict');
    const pipeline = definePipeline({ name: 'map-in-order', version: 1, ...(strict.input ? { input: strict.input } : {}) })
      .task('before', kitStage(strict, 'kit-step'), { input: { 'probe.$': '$.probe', value: 0 }, resultPath: '$.before' })
      .map(
        'items',
        {
          items: '$.items',
          itemSelector: { 'probe.$': '$.probe', 'index.$': '$$.Map.Item.Index', 'value.$': '$$.Map.Item.Value', 'failIndexes.$': '$.failIndexes' },
          maxConcurrency: 1,
          resultPath: '$.results',
        },
        (b) => b.task('item', kitStage(strict, 'kit-item')),
      )
      .build();
    const sm = await h.deploy(pipeline);
    const probe = createProbeDir();
    const arn = await h.start(sm, { probe, items: [10, 20, 30], failIndexes: [2] });
    const failed = await h.settled(arn);
    expect(failed).toMatchObject({ status: 'FAILED', error: 'ItemBroken', redriveCount: 0, redriveStatus: 'REDRIVABLE' });
    const before = (await h.history(arn)).length;
    setProbeFlag(probe, 'fixed');
    const { redriveDate } = await h.client.send(new RedriveExecutionCommand({ executionArn: arn }));
    expect(redriveDate).toBeInstanceOf(Date);
    const done = await h.settled(arn);
    expect(done).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, redriveStatus: 'NOT_REDRIVABLE' });
    expect(JSON.parse(done.output!).results).toEqual([0, 1, 2].map((i) => ({ status: 'succeeded', output: { index: i, value: [10, 20, 30][i]! * 2 } })));
    const starts = startCounts(readProbe(probe));
    expect(Object.fromEntries(starts)).toEqual({ before: 1, 'item-0': 1, 'item-1': 1, 'item-2': 2 });
    const redriven = (await h.history(arn)).slice(before);
    expect(redriven[0]).toMatchObject({ type: 'ExecutionRedriven', executionRedrivenEventDetails: { redriveCount: 1 } });
    expect(redriven.filter((e) => e.type === 'MapIterationStarted').map((e) => e.mapIterationStartedEventDetails!.index)).toEqual([2]);
    expect(params(redriven).map((p) => p.Payload.stepPath)).toEqual(['items[2]/item']);
    expect(h.events.filter((e) => e.detail.executionArn === arn).map((e) => [e.detail.status, e.detail.redriveCount])).toEqual([
      ['RUNNING', 0],
      ['FAILED', 0],
      ['RUNNING', 1],
      ['SUCCEEDED', 1],
    ]);
    await expect(h.client.send(new RedriveExecutionCommand({ executionArn: arn }))).rejects.toMatchObject({ name: 'ExecutionNotRedrivable' });
  });
});

function kitStage(pipeline: AnyPipeline, name: string) {
  return [...pipeline.stages.values()].find((s) => s.name === name)!;
}
