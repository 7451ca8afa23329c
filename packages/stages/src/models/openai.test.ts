import { isStageError, type StageError } from '@baton/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHttpStub, type HttpStub } from '../test-support/http-stub.js';
import { createOpenAiCompatibleModel } from './openai.js';

let stub: HttpStub;
const schema = { type: 'object', properties: { title: { type: 'string' } } };
const model = (extra: { responseFormat?: 'json_object' } = {}) =>
  createOpenAiCompatibleModel({ baseUrl: `${stub.url}/v1/`, model: 'llama3.1', apiKey: 'sk-test', ...extra });
const completion = (content: string | null) => ({
  status: 200,
  body: JSON.stringify({
    id: 'c1',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 33, completion_tokens: 7, total_tokens: 40 },
  }),
});

async function failure(p: Promise<unknown>): Promise<StageError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isStageError(e)) throw new Error(`expected a StageError, got ${String(e)}`);
  return e;
}

describe('OpenAI-compatible chat completions client against a local HTTP server', () => {
  beforeAll(async () => {
    stub = await startHttpStub();
  });
  afterAll(() => stub.close());
  beforeEach(() => {
    stub.requests.length = 0;
  });

  it('posts messages with a JSON schema response format and parses the JSON answer and usage', async () => {
    stub.reply(completion('{"title":"Synopsis"}'));
    const res = await model().complete({ system: 'sys', messages: [{ role: 'user', content: 'go' }], jsonSchema: schema, maxTokens: 100, temperature: 0 });
    expect(res.json).toEqual({ title: 'Synopsis' });
    expect(res.usage).toEqual({ inputTokens: 33, outputTokens: 7 });
    const req = stub.requests[0]!;
    expect(req.url).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(JSON.parse(req.body)).toEqual({
      model: 'llama3.1',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'go' },
      ],
      max_tokens: 100,
      temperature: 0,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
    });
  });

  it('supports servers that only know json_object', async () => {
    stub.reply(completion('{"title":"x"}'));
    await model({ responseFormat: 'json_object' }).complete({ messages: [{ role: 'user', content: 'go' }], jsonSchema: schema });
    expect(JSON.parse(stub.requests[0]!.body).response_format).toEqual({ type: 'json_object' });
  });

  it('leaves unparseable JSON content to the validator (text kept, no json)', async () => {
    stub.reply(completion('{"title": "cut off'));
    const res = await model().complete({ messages: [{ role: 'user', content: 'go' }], jsonSchema: schema });
    expect(res.text).toBe('{"title": "cut off');
    expect(res.json).toBeUndefined();
  });

  it.each([
    [429, 'ThrottlingException', true],
    [500, 'ServiceUnavailableException', true],
    [502, 'ServiceUnavailableException', true],
    [503, 'ServiceUnavailableException', true],
    [408, 'ModelErrorException', true],
    [400, 'InvalidInput', false],
    [401, 'ModelAccessDenied', false],
    [404, 'InvalidInput', false],
  ])('maps HTTP %i to %s (retryable %s)', async (status, code, retryable) => {
    stub.reply({ status, body: JSON.stringify({ error: { message: `stub says ${status}` } }) });
    const e = await failure(model().complete({ messages: [{ role: 'user', content: 'go' }] }));
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(retryable);
    expect(e.message).toContain(`stub says ${status}`);
  });

  it('maps a body that is not a chat completion to a retryable model error', async () => {
    stub.reply({ status: 200, body: 'not json' });
    expect((await failure(model().complete({ messages: [{ role: 'user', content: 'go' }] }))).code).toBe('ModelErrorException');
    stub.reply({ status: 200, body: JSON.stringify({ choices: [] }) });
    expect((await failure(model().complete({ messages: [{ role: 'user', content: 'go' }] }))).code).toBe('ModelErrorException');
  });

  it('maps an unreachable server to ServiceUnavailableException', async () => {
    const dead = createOpenAiCompatibleModel({ baseUrl: 'http://127.0.0.1:1/v1', model: 'x' });
    const e = await failure(dead.complete({ messages: [{ role: 'user', content: 'go' }] }));
    expect(e.code).toBe('ServiceUnavailableException');
    expect(e.retryable).toBe(true);
  });
});
