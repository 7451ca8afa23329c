import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalLambda, type LocalLambda } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'local-lambda-'));
const file = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

const echo = file(
  'echo.mjs',
  `let calls = 0;
export const handler = async (event, context) => ({
  event, calls: ++calls, pid: process.pid,
  color: process.env.COLOR ?? null, parentSecret: process.env.LOCAL_AWS_PARENT_SECRET ?? null,
  keys: Object.keys(process.env).sort(),
  remaining: context.getRemainingTimeInMillis(), requestId: context.awsRequestId,
  functionName: context.functionName, invokedFunctionArn: context.invokedFunctionArn,
});
export const nothing = async () => undefined;
export const sleep = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return process.pid; };`,
);
const failing = file(
  'failing.mjs',
  `class ValidationFailed extends Error { name = 'ValidationFailed'; }\nexport const handler = async () => { throw new ValidationFailed('section 3 has no citation'); };`,
);
const crashing = file('crashing.mjs', `export const handler = async () => { process.exit(3); };`);
const typed = file(
  'typed.ts',
  `interface In { n: number }\nexport const handler = async (event: In): Promise<{ doubled: number }> => ({ doubled: event.n * 2 });`,
);

let lambda: LocalLambda;
let client: LambdaClient;
const credentials = { accessKeyId: 'AKIDCALLER', secretAccessKey: 'secret' };

beforeAll(async () => {
  process.env.LOCAL_AWS_PARENT_SECRET = 'the parent process environment';
  lambda = await startLocalLambda({
    functions: [
      { name: 'red', entry: echo, environment: { COLOR: 'red' } },
      { name: 'blue', entry: echo, environment: { COLOR: 'blue' }, timeoutSeconds: 10 },
      { name: 'nothing', entry: echo, handler: 'nothing', environment: {} },
      { name: 'sleepy', entry: echo, handler: 'sleep', environment: {}, timeoutSeconds: 1 },
      { name: 'failing', entry: failing, environment: {} },
      { name: 'crashing', entry: crashing, environment: {} },
      { name: 'typed', entry: typed, environment: {} },
      { name: 'private', entry: echo, environment: {} },
    ],
    authorize: (key, action, resource) =>
      resource.endsWith(':private') && key !== 'AKIDOWNER'
        ? `User: arn:aws:iam::000000000000:user/${key} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`
        : undefined,
  });
  client = new LambdaClient({ endpoint: lambda.url, region: 'us-east-1', credentials });
});

afterAll(async () => {
  await lambda?.close();
  rmSync(dir, { recursive: true, force: true });
});

const invoke = async (name: string, payload: unknown, c = client) => {
  const out = await c.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(payload) }));
  return { ...out, body: JSON.parse(new TextDecoder().decode(out.Payload)) as Record<string, unknown> };
};

describe('startLocalLambda', () => {
  it('invokes a function through the SDK with a Lambda context, warm between invocations', async () => {
    const first = await invoke('red', { hello: 'world' });
    expect(first.StatusCode).toBe(200);
    expect(first.FunctionError).toBeUndefined();
    expect(first.ExecutedVersion).toBe('$LATEST');
    expect(first.body).toMatchObject({ event: { hello: 'world' }, calls: 1, functionName: 'red', invokedFunctionArn: lambda.arnOf('red') });
    expect(first.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.body.remaining).toBeGreaterThan(2000);
    expect(first.body.remaining).toBeLessThanOrEqual(3000);
    const second = await invoke(lambda.arnOf('red'), {});
    expect(second.body).toMatchObject({ calls: 2, pid: first.body.pid });
    const none = await invoke('nothing', {});
    expect(none.body).toBeNull();
  });

  it('gives each function exactly its own environment', async () => {
    const [red, blue] = await Promise.all([invoke('red', {}), invoke('blue', {})]);
    expect(red.body.color).toBe('red');
    expect(blue.body.color).toBe('blue');
    expect(red.body.pid).not.toBe(blue.body.pid);
    expect(red.body.parentSecret).toBeNull();
    expect(red.body.keys).toContain('PATH');
    expect(red.body.keys).toContain('AWS_LAMBDA_FUNCTION_NAME');
    expect((red.body.keys as string[]).filter((k) => k.startsWith('AWS_ACCESS') || k.startsWith('VITEST') || k.startsWith('NODE_CHANNEL'))).toEqual([]);
  });

  it("reports a thrown error as Lambda does: errorType is the error's name", async () => {
    const out = await invoke('failing', {});
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(out.body).toMatchObject({ errorType: 'ValidationFailed', errorMessage: 'section 3 has no citation' });
    expect(out.body.trace).toEqual(expect.arrayContaining([expect.stringContaining('ValidationFailed: section 3 has no citation')]));
  });

  it('kills a function that outlives its timeout and reports Sandbox.Timedout, then serves the next invocation from a new sandbox', async () => {
    const started = Date.now();
    const out = await invoke('sleepy', { ms: 5000 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(out.FunctionError).toBe('Unhandled');
    expect(out.body.errorType).toBe('Sandbox.Timedout');
    expect(out.body.errorMessage).toMatch(/^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/);
    const next = await invoke('sleepy', { ms: 1 });
    expect(typeof next.body).toBe('number');
  });

  it('reports a process that dies as Runtime.ExitError', async () => {
    const out = await invoke('crashing', {});
    expect(out.FunctionError).toBe('Unhandled');
    expect(out.body).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(out.body.errorMessage).toMatch(/Error: Runtime exited with error: exit status 3$/);
    expect(lambda.invocations.filter((i) => i.name === 'crashing')).toEqual([{ name: 'crashing', ms: expect.any(Number), error: 'Runtime.ExitError' }]);
  });

  it('runs a .ts entry through tsx', async () => {
    expect((await invoke('typed', { n: 21 })).body).toEqual({ doubled: 42 });
  });

  it('runs concurrent invocations in separate sandboxes', async () => {
    const pids = await Promise.all([1, 2, 3].map(() => invoke('sleepy', { ms: 300 })));
    expect(new Set(pids.map((p) => p.body)).size).toBe(3);
  });

  it('refuses a caller that authorize denies with AccessDeniedException (403) and allows another', async () => {
    const err = await invoke('private', {}).catch((e: unknown) => e as { name: string; message: string; $metadata: { httpStatusCode: number } });
    expect(err).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } });
    expect((err as Error).message).toContain(
      'AKIDCALLER is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:private',
    );
    const owner = new LambdaClient({ endpoint: lambda.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDOWNER', secretAccessKey: 'x' } });
    expect((await invoke('private', {}, owner)).StatusCode).toBe(200);
  });

  it('answers an unknown function with ResourceNotFoundException', async () => {
    await expect(invoke('missing', {})).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
  });
});
