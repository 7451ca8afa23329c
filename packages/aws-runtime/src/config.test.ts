import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isStageError } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { connectionStringOf } from './database.js';
import { awsClientConfig, once, requireEnv } from './env.js';
import { failureMetricLine } from './metrics.js';
import { readSecret } from './secrets.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:baton-db-AbCdEf';

describe('awsClientConfig', () => {
  it('applies the SDK variables of an env object by hand, and leaves process.env to the SDK', () => {
    const env = {
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:2',
      AWS_ACCESS_KEY_ID: 'a',
      AWS_SECRET_ACCESS_KEY: 'b',
    };
    expect(awsClientConfig(env, 'S3')).toEqual({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:2',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    expect(awsClientConfig(env, 'SNS').endpoint).toBe('http://127.0.0.1:1');
    expect(awsClientConfig({ ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }, 'SNS')).not.toHaveProperty('endpoint');
    expect(awsClientConfig(process.env, 'S3')).toEqual({});
  });

  it('requireEnv names the variable; once keeps a success and forgets a failure', async () => {
    expect(() => requireEnv({ X: ' ' }, 'X', 'set it')).toThrow(/X is not set: set it/);
    let calls = 0;
    const flaky = once(async () => {
      calls++;
      if (calls === 1) throw new Error('first');
      return calls;
    });
    await expect(flaky()).rejects.toThrow('first');
    expect(await flaky()).toBe(2);
    expect(await flaky()).toBe(2);
  });
});

describe('connectionStringOf', () => {
  it('takes a postgres:// URL as it is', () => {
    expect(connectionStringOf(' postgresql://u:p@h:5/db \n', ARN)).toBe('postgresql://u:p@h:5/db');
  });

  it('builds a URL from the RDS JSON (escaped credentials, defaults, TLS verified unless the secret says otherwise)', () => {
    const rds = {
      engine: 'postgres',
      host: 'db.cluster.eu-west-1.rds.amazonaws.com',
      port: 5433,
      username: 'baton',
      password: 'p@ss:/w?rd',
      dbname: 'registry',
    };
    expect(connectionStringOf(JSON.stringify(rds), ARN)).toBe(
      'postgres://baton:p%40ss%3A%2Fw%3Frd@db.cluster.eu-west-1.rds.amazonaws.com:5433/registry?sslmode=verify-full',
    );
    expect(connectionStringOf(JSON.stringify({ host: 'h', username: 'u', password: 'p', sslmode: 'disable' }), ARN)).toBe(
      'postgres://u:p@h:5432/postgres?sslmode=disable',
    );
  });

  it('refuses anything else with a ConfigurationError naming the secret, never its content', () => {
    for (const bad of ['hunter2-password', '{"host":"h","password":"hunter2"}', '[1]', 'null']) {
      let err: unknown;
      try {
        connectionStringOf(bad, ARN);
      } catch (e) {
        err = e;
      }
      expect(isStageError(err) && err.code).toBe('ConfigurationError');
      expect((err as Error).message).toContain(ARN);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});

describe('readSecret', () => {
  const failing = (name: string): SecretsManagerClient =>
    ({ send: async () => Promise.reject(Object.assign(new Error(`${name} happened`), { name })) }) as unknown as SecretsManagerClient;

  it('maps what a deployment must fix to a ConfigurationError naming the ARN and the IAM action', async () => {
    for (const name of ['AccessDeniedException', 'ResourceNotFoundException']) {
      const err = await readSecret(ARN, { client: failing(name), variable: 'BATON_DATABASE_SECRET_ARN' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ConfigurationError', retryable: false });
      expect((err as Error).message).toContain(ARN);
      expect((err as Error).message).toContain('secretsmanager:GetSecretValue');
      expect((err as Error).message).toContain('BATON_DATABASE_SECRET_ARN');
    }
    await expect(readSecret(ARN, { client: failing('DecryptionFailure') })).rejects.toMatchObject({
      code: 'ConfigurationError',
      message: expect.stringContaining('kms:Decrypt'),
    });
  });

  it('keeps transient failures retryable, and refuses a binary secret', async () => {
    await expect(readSecret(ARN, { client: failing('ThrottlingException') })).rejects.toMatchObject({ code: 'ThrottlingException', retryable: true });
    await expect(readSecret(ARN, { client: failing('TimeoutError') })).rejects.toMatchObject({ code: 'ServiceUnavailableException', retryable: true });
    const binary = { send: async () => ({ SecretBinary: new Uint8Array([1]) }) } as unknown as SecretsManagerClient;
    await expect(readSecret(ARN, { client: binary })).rejects.toMatchObject({
      code: 'ConfigurationError',
      message: expect.stringContaining('no SecretString'),
    });
  });
});

describe('failureMetricLine', () => {
  it('is an EMF document: namespace Baton, dimensions Pipeline x FailureClass, count 1', () => {
    const line = JSON.parse(
      failureMetricLine('FailedSteps', {
        pipeline: 'report',
        error: { code: 'ThrottlingException', message: 'm', retryable: true },
        runId: 'r',
        stepPath: 'sections[1]/generate',
        at: 5,
      }),
    );
    expect(line).toEqual({
      _aws: {
        Timestamp: 5,
        CloudWatchMetrics: [{ Namespace: 'Baton', Dimensions: [['Pipeline', 'FailureClass']], Metrics: [{ Name: 'FailedSteps', Unit: 'Count' }] }],
      },
      Pipeline: 'report',
      FailureClass: 'model',
      FailedSteps: 1,
      errorCode: 'ThrottlingException',
      runId: 'r',
      stepPath: 'sections[1]/generate',
    });
    const assembly = JSON.parse(
      failureMetricLine('FailedRuns', { pipeline: 'report', error: { code: 'StageFailed', message: 'm', retryable: true }, context: { stage: 'assemble' } }),
    );
    expect(assembly).toMatchObject({ FailureClass: 'assembly', FailedRuns: 1 });
  });
});
