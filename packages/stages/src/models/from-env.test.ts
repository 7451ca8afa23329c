import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHttpStub, type HttpStub } from '../test-support/http-stub.js';
import { createModelFromEnv } from './from-env.js';
import { startLocalBedrock, type LocalBedrock } from './local-bedrock.js';
import { stageErrorOf } from '../test-support/stage-error.js';

const HAIKU = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton/openai-key-AbCdEf';
const aws = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'secret', AWS_MAX_ATTEMPTS: '1' };
const ask = { messages: [{ role: 'user' as const, content: 'Write the section "Synopsis".\n[a.md#p1] The study enrolled 40 adults.' }] };
const chat = (content: string) => ({
  status: 200,
  body: JSON.stringify({ choices: [{ message: { content } }], usage: { prompt_tokens: 5, completion_tokens: 2 } }),
});
const secretValue = (secretString: string) => ({
  status: 200,
  body: JSON.stringify({ ARN: SECRET_ARN, Name: 'baton/openai-key', SecretString: secretString }),
});
const secretsError = (status: number, type: string, message: string) => ({ status, body: JSON.stringify({ __type: type, message }) });

describe('createModelFromEnv: configuration errors are fatal, name what to fix, and never throw at creation', () => {
  it.each([
    [
      {},
      'generate',
      'stage "generate" calls a model but BATON_MODEL_PROVIDER is not set: give BatonStateMachine a model (props.model or props.models.generate)',
    ],
    [
      { BATON_STAGE: 'repair' },
      undefined,
      'stage "repair" calls a model but BATON_MODEL_PROVIDER is not set: give BatonStateMachine a model (props.model or props.models.repair)',
    ],
    [
      { BATON_MODEL_PROVIDER: 'anthropic', BATON_MODEL_ID: 'x' },
      'generate',
      'stage "generate": BATON_MODEL_PROVIDER is "anthropic", which is not a model provider: use "bedrock" or "openai-compatible"',
    ],
    [
      { BATON_MODEL_PROVIDER: 'bedrock' },
      'generate',
      'stage "generate": BATON_MODEL_PROVIDER is "bedrock" but BATON_MODEL_ID is not set: set it to a Bedrock model id, inference-profile id or ARN',
    ],
    [
      { BATON_MODEL_PROVIDER: 'openai-compatible', BATON_MODEL_ID: 'llama3.1' },
      'plan',
      'stage "plan": BATON_MODEL_PROVIDER is "openai-compatible" but BATON_OPENAI_BASE_URL is not set: set it to the server\'s base URL, e.g. https://host/v1',
    ],
    [
      { BATON_MODEL_PROVIDER: 'openai-compatible', BATON_MODEL_ID: 'llama3.1', BATON_OPENAI_BASE_URL: 'host:8000/v1' },
      undefined,
      'this function: BATON_OPENAI_BASE_URL is "host:8000/v1", which is not an http(s) URL',
    ],
  ])('%j (stage %s)', async (env, stage, message) => {
    const model = createModelFromEnv({ env, ...(stage ? { stage } : {}) });
    expect(model.configurationError?.message).toContain(message);
    const e = await stageErrorOf(model.complete(ask));
    expect(e).toMatchObject({ code: 'ConfigurationError', retryable: false });
    expect(e.message).toContain(message);
  });
});

describe('createModelFromEnv: bedrock', () => {
  let bedrock: LocalBedrock;
  beforeAll(async () => {
    bedrock = await startLocalBedrock({ models: [HAIKU] });
  });
  afterAll(() => bedrock.close());

  it('calls Bedrock at the endpoint of AWS_ENDPOINT_URL_BEDROCK_RUNTIME, in AWS_REGION', async () => {
    const model = createModelFromEnv({
      env: { ...aws, BATON_MODEL_PROVIDER: 'bedrock', BATON_MODEL_ID: HAIKU, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.url },
    });
    expect(model.configurationError).toBeUndefined();
    expect(model.modelId).toBe(HAIKU);
    const res = await model.complete({ ...ask, jsonSchema: { type: 'object' } });
    expect(res.json).toMatchObject({ title: 'Synopsis' });
    expect(bedrock.requests.at(-1)).toMatchObject({ modelId: HAIKU, status: 200 });
  });

  it('surfaces a model the role may not call as the fatal ModelAccessDenied', async () => {
    const model = createModelFromEnv({
      env: { ...aws, BATON_MODEL_PROVIDER: 'bedrock', BATON_MODEL_ID: 'meta.llama3-70b-instruct-v1:0', AWS_ENDPOINT_URL: bedrock.url },
    });
    expect(await stageErrorOf(model.complete(ask))).toMatchObject({ code: 'ModelAccessDenied', retryable: false });
  });
});

describe('createModelFromEnv: openai-compatible with the key in Secrets Manager (wire-format stubs)', () => {
  let secrets: HttpStub;
  let llm: HttpStub;
  beforeAll(async () => {
    [secrets, llm] = await Promise.all([startHttpStub(), startHttpStub()]);
  });
  afterAll(() => Promise.all([secrets.close(), llm.close()]));
  beforeEach(() => {
    secrets.requests.length = 0;
    llm.requests.length = 0;
  });
  const envWith = (extra: Record<string, string> = {}) => ({
    ...aws,
    BATON_MODEL_PROVIDER: 'openai-compatible',
    BATON_MODEL_ID: 'llama3.1',
    BATON_OPENAI_BASE_URL: `${llm.url}/v1`,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    ...extra,
  });

  it('sends no key when BATON_OPENAI_KEY_SECRET_ARN is not set (a keyless server)', async () => {
    llm.reply(chat('hello'));
    await expect(createModelFromEnv({ env: envWith() }).complete(ask)).resolves.toMatchObject({ text: 'hello', modelId: 'llama3.1' });
    expect(llm.requests[0]!.headers.authorization).toBeUndefined();
    expect(secrets.requests).toHaveLength(0);
  });

  it.each([
    ['the key itself', 'sk-plain-123', 'sk-plain-123'],
    ['JSON {"apiKey"}', '{"apiKey": "sk-json-456", "note": "rotated monthly"}', 'sk-json-456'],
  ])('reads the key once from a SecretString that is %s and sends it as the Bearer token', async (_, stored, key) => {
    secrets.reply(secretValue(stored));
    llm.reply(chat('{"ok":true}'));
    const model = createModelFromEnv({ env: envWith({ BATON_OPENAI_KEY_SECRET_ARN: SECRET_ARN }) });
    await model.complete(ask);
    await model.complete(ask);
    expect(llm.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${key}`, `Bearer ${key}`]);
    expect(secrets.requests).toHaveLength(1);
    expect(secrets.requests[0]!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(secrets.requests[0]!.body)).toEqual({ SecretId: SECRET_ARN });
  });

  it.each([
    [
      secretsError(400, 'AccessDeniedException', 'User is not authorized to perform: secretsmanager:GetSecretValue'),
      /may not read secret "arn:aws:secretsmanager:.*baton\/openai-key-AbCdEf" \(named by BATON_OPENAI_KEY_SECRET_ARN\): allow secretsmanager:GetSecretValue/,
    ],
    [
      secretsError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret."),
      /has no secret "arn:aws:secretsmanager:.*".*secretsmanager:GetSecretValue/,
    ],
    [secretsError(400, 'DecryptionFailure', 'KMS access denied'), /kms:Decrypt/],
    [secretValue('{"key": "sk-wrong-member"}'), /JSON without a string "apiKey" member/],
  ])('a secret the deployment must fix is a fatal ConfigurationError: %#', async (reply, message) => {
    secrets.reply(reply);
    const e = await stageErrorOf(createModelFromEnv({ env: envWith({ BATON_OPENAI_KEY_SECRET_ARN: SECRET_ARN }) }).complete(ask));
    expect(e).toMatchObject({ code: 'ConfigurationError', retryable: false, details: { secretId: SECRET_ARN } });
    expect(e.message).toMatch(message);
    expect(llm.requests).toHaveLength(0);
  });

  it('a Secrets Manager outage is retryable, and the next call reads the secret again', async () => {
    secrets.reply(secretsError(500, 'InternalServiceError', 'try later'), secretValue('sk-after-outage'));
    llm.reply(chat('ok'));
    const model = createModelFromEnv({ env: envWith({ BATON_OPENAI_KEY_SECRET_ARN: SECRET_ARN }) });
    expect(await stageErrorOf(model.complete(ask))).toMatchObject({ code: 'ServiceUnavailableException', retryable: true });
    await model.complete(ask);
    expect(llm.requests.map((r) => r.headers.authorization)).toEqual(['Bearer sk-after-outage']);
  });
});
