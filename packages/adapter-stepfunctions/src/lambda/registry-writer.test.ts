import type { RunEvent } from '@baton/core';
import { createPgliteRegistry, createRegistryObserver, type RunRegistry } from '@baton/registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaCause, toLambdaError } from './errors.js';
import { ABORTED_CODE, createRegistryWriterHandler } from './registry-writer.js';
import { EXECUTION_STATUS_CHANGE, type ExecutionStatus, type ExecutionStatusChangeEvent } from './status-event.js';

const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:report';
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function statusEvent(name: string, status: ExecutionStatus, detail: Partial<ExecutionStatusChangeEvent['detail']> = {}): ExecutionStatusChangeEvent {
  return {
    version: '0',
    id: `${name}-${status}`,
    'detail-type': EXECUTION_STATUS_CHANGE,
    source: 'aws.states',
    account: '123456789012',
    time: new Date(T0).toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: {
      executionArn: `arn:aws:states:eu-west-1:123456789012:execution:report:${name}`,
      stateMachineArn: SM,
      name,
      status,
      startDate: T0,
      stopDate: status === 'RUNNING' ? null : T0 + 60_000,
      input: status === 'RUNNING' ? '{"reportTitle":"Q3"}' : null,
      inputDetails: { included: true },
      output: null,
      outputDetails: null,
      error: null,
      cause: null,
      redriveCount: 0,
      redriveDate: null,
      ...detail,
    },
  };
}

describe('createRegistryWriterHandler: status-change events to run events', () => {
  const collect = (extra: Partial<Parameters<typeof createRegistryWriterHandler>[0]> = {}) => {
    const events: RunEvent[] = [];
    return { events, handler: createRegistryWriterHandler({ observer: (e) => void events.push(e), ...extra }) };
  };

  it('RUNNING starts the run (pipeline = state machine name, engine stepfunctions, execution ARN, input)', async () => {
    const { events, handler } = collect();
    await handler(statusEvent('run-1', 'RUNNING'));
    expect(events).toEqual([
      {
        type: 'run-started',
        runId: 'run-1',
        pipeline: 'report',
        engine: 'stepfunctions',
        executionId: `arn:aws:states:eu-west-1:123456789012:execution:report:run-1`,
        input: { reportTitle: 'Q3' },
        at: '2026-03-01T10:00:00.000Z',
      },
    ]);
    // a version ARN keeps the name; options override both names
    const named = collect({ pipeline: 'quarterly', engine: 'stepfunctions-local' });
    await named.handler(statusEvent('run-2', 'RUNNING', { stateMachineArn: `${SM}:7` }));
    expect(named.events[0]).toMatchObject({ pipeline: 'quarterly', engine: 'stepfunctions-local' });
    const versioned = collect();
    await versioned.handler(statusEvent('run-2', 'RUNNING', { stateMachineArn: `${SM}:7` }));
    expect(versioned.events[0]).toMatchObject({ pipeline: 'report' });
  });

  it('reads an input or output left out of the event with DescribeExecution', async () => {
    const asked: string[] = [];
    const { events, handler } = collect({ describeExecution: async (arn) => (asked.push(arn), { input: '{"big":true}', output: '{"done":1}' }) });
    await handler(statusEvent('run-3', 'RUNNING', { input: null, inputDetails: { included: false } }));
    await handler(statusEvent('run-3', 'SUCCEEDED', { output: null, outputDetails: { included: false } }));
    expect(asked).toHaveLength(2);
    expect(events).toMatchObject([
      { input: { big: true } },
      { type: 'run-finished', status: 'succeeded', output: { done: 1 }, at: '2026-03-01T10:01:00.000Z' },
    ]);
  });

  it("FAILED decodes Baton's error from the cause; TIMED_OUT and ABORTED get codes of their own", async () => {
    const { events, handler } = collect();
    const thrown = toLambdaError({ code: 'ModelAccessDenied', message: 'no access to model x', retryable: false });
    await handler(statusEvent('run-4', 'FAILED', { error: thrown.name, cause: lambdaCause(thrown) }));
    await handler(statusEvent('run-5', 'FAILED', { error: 'ApprovalTimedOut', cause: 'gate "review" was not decided within 60 s' }));
    await handler(statusEvent('run-6', 'TIMED_OUT'));
    await handler(statusEvent('run-7', 'ABORTED', { error: 'Operator', cause: 'stopped by hand' }));
    await handler(statusEvent('run-8', 'FAILED'));
    expect(events.map((e) => (e.type === 'run-finished' ? e.error : undefined))).toEqual([
      { code: 'ModelAccessDenied', message: 'no access to model x', retryable: false },
      { code: 'ApprovalTimedOut', message: 'gate "review" was not decided within 60 s', retryable: false },
      expect.objectContaining({ code: 'States.Timeout' }),
      { code: ABORTED_CODE, message: 'stopped by hand', retryable: false, details: { status: 'ABORTED', error: 'Operator' } },
      expect.objectContaining({ code: 'States.Runtime' }),
    ]);
  });

  it('ignores PENDING_REDRIVE', async () => {
    const { events, handler } = collect();
    expect(await handler(statusEvent('run-9', 'PENDING_REDRIVE'))).toBeNull();
    expect(events).toEqual([]);
  });
});

describe('createRegistryWriterHandler on a registry (PGlite): redrive and duplicate deliveries', () => {
  let registry: RunRegistry;
  beforeAll(async () => {
    registry = await createPgliteRegistry();
  }, 60_000);
  afterAll(async () => registry?.close());

  it('a redrive reopens the failed run (execution 2); duplicates, late or not, change nothing', async () => {
    const observer = createRegistryObserver(registry);
    const handler = createRegistryWriterHandler({ observer });
    const failed = statusEvent('run-r', 'FAILED', { error: 'StageFailed', cause: 'boom' });
    const redriven = statusEvent('run-r', 'RUNNING', { redriveCount: 1, redriveDate: T0 + 120_000 });
    const succeeded = statusEvent('run-r', 'SUCCEEDED', { output: '{"ok":true}', stopDate: T0 + 180_000, redriveCount: 1, redriveDate: T0 + 120_000 });
    for (const e of [statusEvent('run-r', 'RUNNING'), statusEvent('run-r', 'RUNNING'), failed, failed]) await handler(e);
    expect(await registry.getRun('run-r')).toMatchObject({ status: 'failed', execution: 1, error: { code: 'StageFailed', message: 'boom' } });
    await handler(redriven);
    expect(await registry.getRun('run-r')).toMatchObject({ status: 'running', execution: 2 });
    await handler(redriven);
    // the first RUNNING delivered again, late: it does not reopen or restart anything
    await handler(statusEvent('run-r', 'RUNNING'));
    expect(await registry.getRun('run-r')).toMatchObject({ status: 'running', execution: 2, startedAt: '2026-03-01T10:00:00.000Z' });
    await handler(succeeded);
    await handler(succeeded);
    await handler(redriven);
    await observer.flush();
    expect(observer.failures).toBe(0);
    expect(await registry.getRun('run-r')).toMatchObject({
      status: 'succeeded',
      execution: 2,
      outputRef: { ok: true },
      finishedAt: '2026-03-01T10:03:00.000Z',
      inputRef: { reportTitle: 'Q3' },
    });
  }, 60_000);
});
