import { SFNClient } from '@aws-sdk/client-sfn';
import { createReviewToken } from '@baton/core/engine';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryReviewStore } from '../lambda/reviews.js';
import { createStepFunctionsClient } from './client.js';

interface Call {
  target: string;
  contentType: string;
  body: Record<string, unknown>;
}

/** A local HTTP server speaking the Step Functions JSON protocol (awsJson1_0, x-amz-target). */
function startFakeSfn(): Promise<{ server: Server; url: string; calls: Call[]; replies: Record<string, unknown> }> {
  const calls: Call[] = [];
  const replies: Record<string, unknown> = {};
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      calls.push({ target, contentType: String(req.headers['content-type'] ?? ''), body: JSON.parse(data || '{}') as Record<string, unknown> });
      const op = target.replace('AWSStepFunctions.', '');
      const reply = replies[op];
      if (reply && typeof reply === 'object' && '__type' in reply) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      } else res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(typeof reply === 'function' ? (reply as (b: unknown) => unknown)(calls.at(-1)!.body) : (reply ?? {})));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, replies })),
  );
}

const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:report';
const EXEC = 'arn:aws:states:eu-west-1:123456789012:execution:report:run-1';

describe('Step Functions client helpers against a local JSON-protocol server', () => {
  let fake: Awaited<ReturnType<typeof startFakeSfn>>;
  let client: SFNClient;
  beforeAll(async () => {
    fake = await startFakeSfn();
    client = new SFNClient({ endpoint: fake.url, region: 'eu-west-1', credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await new Promise((r) => fake.server.close(r));
  });
  beforeEach(() => {
    fake.calls.length = 0;
    for (const k of Object.keys(fake.replies)) delete fake.replies[k];
  });

  it('start sends StartExecution with the run id as execution name and JSON input', async () => {
    fake.replies.StartExecution = { executionArn: EXEC, startDate: 1_700_000_000 };
    const sfn = createStepFunctionsClient({ client, stateMachineArn: SM });
    const out = await sfn.start({ topic: 'q3' }, { runId: 'run-1' });
    expect(out).toEqual({ runId: 'run-1', executionArn: EXEC });
    expect(fake.calls[0]).toMatchObject({
      target: 'AWSStepFunctions.StartExecution',
      contentType: 'application/x-amz-json-1.0',
      body: { stateMachineArn: SM, name: 'run-1', input: '{"topic":"q3"}' },
    });
  });

  it('describe parses the output and maps a Lambda failure back to Baton error', async () => {
    fake.replies.DescribeExecution = {
      executionArn: EXEC,
      name: 'run-1',
      status: 'FAILED',
      startDate: 1_700_000_000,
      stopDate: 1_700_000_100,
      error: 'ValidationFailed',
      cause: JSON.stringify({
        errorType: 'ValidationFailed',
        errorMessage: JSON.stringify({ code: 'ValidationFailed', message: 'no citation', retryable: false, details: { n: 1 } }),
        trace: [],
      }),
    };
    const info = await createStepFunctionsClient({ client, stateMachineArn: SM }).describe(EXEC);
    expect(info.status).toBe('FAILED');
    expect(info.error).toEqual({ code: 'ValidationFailed', message: 'no citation', retryable: false, details: { n: 1 } });
    expect(info.stopDate?.getTime()).toBe(1_700_000_100_000);
  });

  it('approve checks the review token, then SendTaskSuccess answers the stored task token', async () => {
    const reviews = createMemoryReviewStore();
    const { token, hash } = createReviewToken();
    await reviews.put({
      runId: 'run-1',
      executionArn: EXEC,
      gate: 'review',
      stepPath: 'review',
      payload: {},
      createdAt: '',
      expiresAt: '',
      tokenHash: hash,
      taskToken: 'TT-1',
      status: 'open',
    });
    const sfn = createStepFunctionsClient({ client, stateMachineArn: SM, reviews });
    await expect(sfn.approve(EXEC, 'review', { token: 'wrong' })).rejects.toThrow(/token/);
    expect(fake.calls).toHaveLength(0);
    await sfn.approve(EXEC, 'review', { token, reviewer: 'alice', comment: 'ok' });
    expect(fake.calls[0]).toMatchObject({ target: 'AWSStepFunctions.SendTaskSuccess', body: { taskToken: 'TT-1' } });
    expect(JSON.parse(fake.calls[0]!.body.output as string)).toEqual({ approved: true, reviewer: 'alice', comment: 'ok', sections: {} });
    await expect(sfn.approve(EXEC, 'review', { token })).rejects.toMatchObject({ code: 'ReviewTokenUsed' });
  });

  it('reject sends SendTaskFailure with ApprovalRejected and the serialized error as cause', async () => {
    const reviews = createMemoryReviewStore();
    const { token, hash } = createReviewToken();
    await reviews.put({
      runId: 'run-1',
      executionArn: EXEC,
      gate: 'review',
      stepPath: 'review',
      reviewer: 'bob',
      payload: {},
      createdAt: '',
      expiresAt: '',
      tokenHash: hash,
      taskToken: 'TT-2',
      status: 'open',
    });
    const sfn = createStepFunctionsClient({ client, stateMachineArn: SM, reviews });
    await expect(sfn.reject(EXEC, 'review', { token, reviewer: 'mallory' })).rejects.toThrow(/assigned to reviewer "bob"/);
    await sfn.reject(EXEC, 'review', { token, reviewer: 'bob', comment: 'wrong numbers' });
    const call = fake.calls.find((c) => c.target === 'AWSStepFunctions.SendTaskFailure')!;
    expect(call.body).toMatchObject({ taskToken: 'TT-2', error: 'ApprovalRejected' });
    expect(JSON.parse(call.body.cause as string)).toMatchObject({
      code: 'ApprovalRejected',
      details: { gate: 'review', reviewer: 'bob', comment: 'wrong numbers' },
    });
  });

  it('heartbeat, redrive and list map to SendTaskHeartbeat, RedriveExecution and paged ListExecutions', async () => {
    const reviews = createMemoryReviewStore();
    await reviews.put({
      runId: 'run-1',
      executionArn: EXEC,
      gate: 'review',
      stepPath: 'review',
      payload: {},
      createdAt: '',
      expiresAt: '',
      tokenHash: 'h',
      taskToken: 'TT-3',
      status: 'open',
    });
    const sfn = createStepFunctionsClient({ client, stateMachineArn: SM, reviews });
    await sfn.heartbeat(EXEC, 'review');
    fake.replies.RedriveExecution = { redriveDate: 1_700_000_200 };
    expect((await sfn.redrive(EXEC)).redriveDate?.getTime()).toBe(1_700_000_200_000);
    let page = 0;
    fake.replies.ListExecutions = () =>
      page++ === 0
        ? { executions: [{ executionArn: EXEC, stateMachineArn: SM, name: 'run-1', status: 'FAILED', startDate: 1 }], nextToken: 'p2' }
        : { executions: [{ executionArn: EXEC + 'b', stateMachineArn: SM, name: 'run-2', status: 'FAILED', startDate: 2 }] };
    const rows = await sfn.list({ status: 'FAILED' });
    expect(rows.map((r) => r.name)).toEqual(['run-1', 'run-2']);
    expect(fake.calls.map((c) => c.target)).toEqual([
      'AWSStepFunctions.SendTaskHeartbeat',
      'AWSStepFunctions.RedriveExecution',
      'AWSStepFunctions.ListExecutions',
      'AWSStepFunctions.ListExecutions',
    ]);
    expect(fake.calls[0]!.body).toEqual({ taskToken: 'TT-3' });
    expect(fake.calls[3]!.body).toMatchObject({ stateMachineArn: SM, statusFilter: 'FAILED', nextToken: 'p2' });
  });

  it('a service error surfaces with its AWS error name', async () => {
    fake.replies.RedriveExecution = { __type: 'com.amazonaws.swf.service.v2.model#ExecutionNotRedrivable', message: 'not redrivable' };
    await expect(createStepFunctionsClient({ client, stateMachineArn: SM }).redrive(EXEC)).rejects.toMatchObject({ name: 'ExecutionNotRedrivable' });
  });
});
