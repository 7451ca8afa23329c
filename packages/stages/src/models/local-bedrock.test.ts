import { StageError, type ModelClient, type ModelRequest } from '@baton/core';
import { connect } from 'node:http2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBedrockModel } from './bedrock.js';
import { startLocalBedrock, type LocalBedrock } from './local-bedrock.js';
import { createOfflineModel } from './offline.js';
import { stageErrorOf } from '../test-support/stage-error.js';

const HAIKU = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const PROFILE_ARN = 'arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0';
const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'secret' };
const schema = { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] };
const sectionSchema = { type: 'object', properties: { title: { type: 'string' }, paragraphs: { type: 'array' }, figures: { type: 'array' } } };
const prompt =
  'Write the section "Synopsis" from these excerpts:\n[trial.md#p1] Mean age was 54 years. The study enrolled adults.\n[trial.md#p2] Blood pressure fell by 12 mmHg.';

let bedrock: LocalBedrock;
const model = (modelId = HAIKU) => createBedrockModel({ modelId, clientConfig: { endpoint: bedrock.url, region: 'us-east-1', credentials } });

describe('local Bedrock server, driven by the real SDK client', () => {
  beforeAll(async () => {
    bedrock = await startLocalBedrock({ models: [HAIKU, PROFILE_ARN] });
  });
  afterAll(() => bedrock.close());
  afterEach(() => {
    bedrock.setOutage(undefined);
    bedrock.requests.length = 0;
  });

  it('answers a forced tool with the offline model JSON as a toolUse block, with usage and latency', async () => {
    const res = await model().complete({ system: 'be factual', messages: [{ role: 'user', content: prompt }], jsonSchema: sectionSchema, maxTokens: 800 });
    expect(res.json).toMatchObject({ title: 'Synopsis', paragraphs: [{ citations: ['trial.md#p1', 'trial.md#p2'] }] });
    expect((res.json as { figures: unknown[] }).figures).toContainEqual(expect.objectContaining({ value: 12, unit: 'mmHg', citation: 'trial.md#p2' }));
    expect(res.usage.inputTokens).toBeGreaterThan(0);
    expect(res.usage.outputTokens).toBeGreaterThan(0);
    expect(res.latencyMs).toBeGreaterThanOrEqual(0);
    expect(res.modelId).toBe(HAIKU);
    expect(bedrock.requests).toEqual([{ modelId: HAIKU, time: expect.any(String), status: 200, usage: res.usage }]);
  });

  it('accepts an allowed inference-profile ARN (the SDK sends it URL-encoded in the path)', async () => {
    const res = await model(PROFILE_ARN).complete({ messages: [{ role: 'user', content: prompt }], jsonSchema: sectionSchema });
    expect(res.json).toMatchObject({ title: 'Synopsis' });
    expect(bedrock.requests[0]).toMatchObject({ modelId: PROFILE_ARN, status: 200 });
  });

  it('refuses a model id outside `models` with AccessDeniedException, which the client maps to a fatal ModelAccessDenied', async () => {
    const e = await stageErrorOf(model('anthropic.claude-3-opus-20240229-v1:0').complete({ messages: [{ role: 'user', content: 'hi' }] }));
    expect(e.code).toBe('ModelAccessDenied');
    expect(e.retryable).toBe(false);
    expect(e.details).toMatchObject({ providerCode: 'AccessDeniedException', httpStatus: 403 });
    expect(bedrock.requests[0]).toMatchObject({ modelId: 'anthropic.claude-3-opus-20240229-v1:0', status: 403, errorType: 'AccessDeniedException' });
  });

  it.each([
    ['throttle', 429, 'ThrottlingException', 'ThrottlingException'],
    ['unavailable', 503, 'ServiceUnavailableException', 'ServiceUnavailableException'],
    ['model-error', 424, 'ModelErrorException', 'ModelErrorException'],
  ] as const)('outage %s: HTTP %i %s, mapped to the retryable %s; `times` ends it', async (kind, status, type, code) => {
    bedrock.setOutage(kind, { times: 2 });
    for (let i = 0; i < 2; i++) {
      const e = await stageErrorOf(model().complete({ messages: [{ role: 'user', content: 'hi' }] }));
      expect(e.code).toBe(code);
      expect(e.retryable).toBe(true);
      expect(e.details).toMatchObject({ providerCode: type, httpStatus: status });
    }
    await expect(model().complete({ messages: [{ role: 'user', content: prompt }] })).resolves.toMatchObject({ modelId: HAIKU });
    expect(bedrock.requests.map((r) => r.status)).toEqual([status, status, 200]);
  });

  it('answers a malformed request with ValidationException (fatal InvalidInput for the client)', async () => {
    const e = await stageErrorOf(model().complete({ messages: [{ role: 'assistant', content: 'I start' }] }));
    expect(e.code).toBe('InvalidInput');
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/ValidationException: A conversation must start with a user message/);
    const empty = await stageErrorOf(model().complete({ messages: [] }));
    expect(empty.message).toMatch(/ValidationException: 1 validation error detected: Value at 'messages'/);
  });

  it('answers a body that is not JSON with 400 ValidationException over HTTP/1.1 too', async () => {
    const res = await fetch(`${bedrock.url}/model/${encodeURIComponent(HAIKU)}/converse`, { method: 'POST', body: '{"messages": [' });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toMatch(/^ValidationException:/);
    expect(await res.json()).toEqual({ message: expect.stringMatching(/not valid JSON/) });
    const other = await fetch(`${bedrock.url}/model/${encodeURIComponent(HAIKU)}/converse-stream`, { method: 'POST', body: '{}' });
    expect(other.status).toBe(404);
    expect(other.headers.get('x-amzn-errortype')).toMatch(/^UnknownOperationException/);
  });

  it('is reached through AWS_ENDPOINT_URL_BEDROCK_RUNTIME by a client with no endpoint in code', async () => {
    const before = process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
    process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = bedrock.url;
    try {
      const res = await createBedrockModel({ modelId: HAIKU, clientConfig: { region: 'us-east-1', credentials } }).complete({
        messages: [{ role: 'user', content: prompt }],
        jsonSchema: schema,
      });
      expect(res.json).toMatchObject({ title: 'Synopsis' });
      expect(bedrock.requests).toHaveLength(1);
    } finally {
      if (before === undefined) delete process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
      else process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = before;
    }
  });

  it('speaks cleartext HTTP/2 with prior knowledge, as the SDK does by default', async () => {
    const session = connect(bedrock.url);
    const req = session.request({ ':method': 'POST', ':path': `/model/${encodeURIComponent(HAIKU)}/converse`, 'content-type': 'application/json' });
    req.end(JSON.stringify({ messages: [{ role: 'user', content: [{ text: prompt }] }] }));
    const [headers, body] = await new Promise<[Record<string, unknown>, string]>((resolve, reject) => {
      let h: Record<string, unknown> = {};
      let b = '';
      req.on('response', (x) => (h = x));
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => resolve([h, b]));
      req.on('error', reject);
    });
    session.close();
    expect(headers[':status']).toBe(200);
    expect(JSON.parse(body)).toMatchObject({
      output: { message: { role: 'assistant', content: [{ text: expect.stringContaining('Synopsis') }] } },
      stopReason: 'end_turn',
    });
  });
});

describe('local Bedrock server with a given model', () => {
  it('hands the Converse request to the model as a Baton ModelRequest and maps its StageErrors to Bedrock errors', async () => {
    const seen: ModelRequest[] = [];
    const script: (() => unknown)[] = [
      () => ({ title: 'From the model' }),
      () => {
        throw new StageError('ThrottlingException', 'busy');
      },
      () => {
        throw new StageError('ModelAccessDenied', 'no');
      },
      () => {
        throw new Error('boom');
      },
    ];
    const stub: ModelClient = {
      modelId: 'stub',
      async complete(request) {
        seen.push(request);
        const json = script.shift()!();
        return { text: JSON.stringify(json), json, usage: { inputTokens: 7, outputTokens: 3 }, latencyMs: 1, modelId: 'stub' };
      },
    };
    const factoryCalls: string[] = [];
    const server = await startLocalBedrock({
      model: (id) => {
        factoryCalls.push(id);
        return stub;
      },
    });
    try {
      const m = createBedrockModel({ modelId: HAIKU, clientConfig: { endpoint: server.url, region: 'us-east-1', credentials } });
      const request = { system: 'be factual', messages: [{ role: 'user' as const, content: 'write' }], jsonSchema: schema, maxTokens: 500, temperature: 0.2 };
      const ok = await m.complete(request);
      expect(ok).toMatchObject({ json: { title: 'From the model' }, usage: { inputTokens: 7, outputTokens: 3 } });
      expect(seen[0]).toEqual({ system: 'be factual', messages: [{ role: 'user', content: 'write' }], jsonSchema: schema, maxTokens: 500, temperature: 0.2 });
      expect(await stageErrorOf(m.complete(request))).toMatchObject({ code: 'ThrottlingException', retryable: true, details: { httpStatus: 429 } });
      expect(await stageErrorOf(m.complete(request))).toMatchObject({ code: 'ModelAccessDenied', retryable: false, details: { httpStatus: 403 } });
      expect(await stageErrorOf(m.complete(request))).toMatchObject({
        code: 'ServiceUnavailableException',
        details: { providerCode: 'InternalServerException', httpStatus: 500 },
      });
      expect(factoryCalls).toEqual([HAIKU]);
    } finally {
      await server.close();
    }
  });

  it('answers with text (end_turn) when the model returns no JSON for a forced tool, so the validator and repair see it', async () => {
    const server = await startLocalBedrock({ model: createOfflineModel({ faults: { invalidJsonRate: 1 } }) });
    try {
      const m = createBedrockModel({ modelId: HAIKU, clientConfig: { endpoint: server.url, region: 'us-east-1', credentials } });
      const res = await m.complete({ messages: [{ role: 'user', content: prompt }], jsonSchema: sectionSchema });
      expect(res.json).toBeUndefined();
      expect(() => JSON.parse(res.text) as unknown).toThrow();
    } finally {
      await server.close();
    }
  });
});
