import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isStageError } from '@baton/core';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startHttpStub, type HttpStub } from '../test-support/http-stub.js';
import { createModelFromEnv } from './from-env.js';

// Runs in the `moto` project: moto serves Secrets Manager on the same endpoint as S3.
const moto = inject('s3Endpoint');
const aws = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL_SECRETS_MANAGER: moto };
const secrets = new SecretsManagerClient({ endpoint: moto, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const ask = { messages: [{ role: 'user' as const, content: 'hello' }] };
let llm: HttpStub;

describe('createModelFromEnv with the OpenAI-compatible key in Secrets Manager on moto', () => {
  beforeAll(async () => {
    llm = await startHttpStub();
    llm.reply({ status: 200, body: JSON.stringify({ choices: [{ message: { content: 'hi there' } }], usage: { prompt_tokens: 3, completion_tokens: 2 } }) });
  });
  afterAll(() => llm.close());

  it('reads the key from the secret once and sends it as the Bearer token', async () => {
    const created = await secrets.send(
      new CreateSecretCommand({ Name: `baton/openai-${randomUUID().slice(0, 8)}`, SecretString: JSON.stringify({ apiKey: 'sk-moto-7f3a' }) }),
    );
    const env = {
      ...aws,
      BATON_STAGE: 'generate',
      BATON_MODEL_PROVIDER: 'openai-compatible',
      BATON_MODEL_ID: 'llama3.1',
      BATON_OPENAI_BASE_URL: `${llm.url}/v1`,
      BATON_OPENAI_KEY_SECRET_ARN: created.ARN!,
    };
    const model = createModelFromEnv({ env });
    await expect(model.complete(ask)).resolves.toMatchObject({ text: 'hi there', usage: { inputTokens: 3, outputTokens: 2 } });
    // Deleting the secret proves the second call uses the key already read.
    await secrets.send(new DeleteSecretCommand({ SecretId: created.ARN!, ForceDeleteWithoutRecovery: true }));
    await model.complete(ask);
    expect(llm.requests.map((r) => r.headers.authorization)).toEqual(['Bearer sk-moto-7f3a', 'Bearer sk-moto-7f3a']);
    expect(JSON.parse(llm.requests[0]!.body)).toMatchObject({ model: 'llama3.1' });
  });

  it('turns a secret that does not exist into a fatal ConfigurationError naming the ARN and the IAM action', async () => {
    llm.requests.length = 0;
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:baton/missing-AbCdEf';
    const env = {
      ...aws,
      BATON_MODEL_PROVIDER: 'openai-compatible',
      BATON_MODEL_ID: 'llama3.1',
      BATON_OPENAI_BASE_URL: `${llm.url}/v1`,
      BATON_OPENAI_KEY_SECRET_ARN: arn,
    };
    const e = await createModelFromEnv({ env })
      .complete(ask)
      .then(
        () => 'resolved',
        (err: unknown) => err,
      );
    expect(isStageError(e)).toBe(true);
    expect(e).toMatchObject({ code: 'ConfigurationError', retryable: false, details: { secretId: arn, variable: 'BATON_OPENAI_KEY_SECRET_ARN' } });
    expect((e as Error).message).toContain(`Secrets Manager has no secret "${arn}"`);
    expect((e as Error).message).toContain('secretsmanager:GetSecretValue');
    expect(llm.requests).toHaveLength(0);
  });
});
