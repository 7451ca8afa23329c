import { isStageError, type StageError } from '@baton/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHttpStub, type HttpStub } from '../test-support/http-stub.js';
import { createBedrockModel } from './bedrock.js';

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const schema = { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] };
let stub: HttpStub;

const model = () =>
  createBedrockModel({
    modelId: MODEL,
    clientConfig: { endpoint: stub.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } },
  });

const converseOk = (content: unknown[], usage = { inputTokens: 120, outputTokens: 45, totalTokens: 165 }) => ({
  status: 200,
  body: JSON.stringify({ output: { message: { role: 'assistant', content } }, stopReason: 'tool_use', usage, metrics: { latencyMs: 321 } }),
});

const awsError = (status: number, type: string, message = `${type} from stub`) => ({
  status,
  headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
  body: JSON.stringify({ message }),
});

async function failure(p: Promise<unknown>): Promise<StageError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isStageError(e)) throw new Error(`expected a StageError, got ${String(e)}`);
  return e;
}

const request = {
  system: 'be factual',
  messages: [{ role: 'user' as const, content: 'write the synopsis' }],
  jsonSchema: schema,
  maxTokens: 500,
  temperature: 0,
};

describe('Bedrock Converse client, real SDK against a local wire-format server', () => {
  beforeAll(async () => {
    stub = await startHttpStub({ http2: true });
  });
  afterAll(() => stub.close());
  beforeEach(() => {
    stub.requests.length = 0;
  });

  it('sends a signed Converse request with a forced tool and returns the tool input as JSON with usage', async () => {
    stub.reply(converseOk([{ toolUse: { toolUseId: 't1', name: 'emit_json', input: { title: 'Synopsis' } } }]));
    const res = await model().complete(request);
    expect(res.json).toEqual({ title: 'Synopsis' });
    expect(JSON.parse(res.text)).toEqual({ title: 'Synopsis' });
    expect(res.usage).toEqual({ inputTokens: 120, outputTokens: 45 });
    expect(res.latencyMs).toBe(321);
    expect(res.modelId).toBe(MODEL);
    const req = stub.requests[0]!;
    expect(req.method).toBe('POST');
    expect(decodeURIComponent(req.url)).toBe(`/model/${MODEL}/converse`);
    expect(req.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTEST\//);
    const body = JSON.parse(req.body) as Record<string, unknown>;
    expect(body.system).toEqual([{ text: 'be factual' }]);
    expect(body.messages).toEqual([{ role: 'user', content: [{ text: 'write the synopsis' }] }]);
    expect(body.inferenceConfig).toEqual({ maxTokens: 500, temperature: 0 });
    expect(body.toolConfig).toEqual({
      tools: [{ toolSpec: { name: 'emit_json', description: expect.any(String), inputSchema: { json: schema } } }],
      toolChoice: { tool: { name: 'emit_json' } },
    });
  });

  it('returns plain text when no JSON was requested', async () => {
    stub.reply(converseOk([{ text: 'hello' }]));
    const res = await model().complete({ messages: [{ role: 'user', content: 'hi' }] });
    expect(res.text).toBe('hello');
    expect(res.json).toBeUndefined();
    expect(JSON.parse(stub.requests[0]!.body)).not.toHaveProperty('toolConfig');
  });

  it.each([
    [429, 'ThrottlingException', 'ThrottlingException'],
    [424, 'ModelErrorException', 'ModelErrorException'],
    [408, 'ModelTimeoutException', 'ModelErrorException'],
    [503, 'ServiceUnavailableException', 'ServiceUnavailableException'],
    [500, 'InternalServerException', 'ServiceUnavailableException'],
  ])('maps HTTP %i %s to the retryable code %s', async (status, type, code) => {
    stub.reply(awsError(status, type));
    const e = await failure(model().complete(request));
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(true);
    expect(e.message).toContain(type);
    expect(e.details).toMatchObject({ provider: 'bedrock', providerCode: type, httpStatus: status });
    expect(stub.requests).toHaveLength(1);
  });

  it.each([
    [400, 'ValidationException', 'InvalidInput'],
    [403, 'AccessDeniedException', 'ModelAccessDenied'],
    [404, 'ResourceNotFoundException', 'InvalidInput'],
  ])('maps HTTP %i %s to the fatal code %s', async (status, type, code) => {
    stub.reply(awsError(status, type));
    const e = await failure(model().complete(request));
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(false);
  });

  it('treats a body that is not JSON as a retryable model error', async () => {
    stub.reply({ status: 200, body: '<html>gateway hiccup' });
    const e = await failure(model().complete(request));
    expect(e.code).toBe('ModelErrorException');
    expect(e.retryable).toBe(true);
  });

  it('treats a response without an output message as malformed', async () => {
    stub.reply({ status: 200, body: JSON.stringify({ stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 0, totalTokens: 1 } }) });
    const e = await failure(model().complete(request));
    expect(e.code).toBe('ModelErrorException');
    expect(e.message).toMatch(/malformed/);
  });

  it('treats an answer with neither tool use nor text as malformed when JSON was requested', async () => {
    stub.reply(converseOk([]));
    const e = await failure(model().complete(request));
    expect(e.code).toBe('ModelErrorException');
  });

  it('maps an error status without an error type by its HTTP status', async () => {
    stub.reply({ status: 429, body: '{}' });
    const e = await failure(model().complete(request));
    expect(e.code).toBe('ThrottlingException');
    expect(e.retryable).toBe(true);
  });
});
