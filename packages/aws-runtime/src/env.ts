import { StageError } from '@baton/core';
import { awsEnvConfig, type AwsEnvConfig } from '@baton/stages';

/** Region, endpoint, retries and credentials of an AWS SDK client (`AwsEnvConfig` of `@baton/stages`). */
export type AwsClientConfig = AwsEnvConfig;

/**
 * The environment a function reads: `process.env` in Lambda, a plain object in tests.
 *
 * @example
 * ```ts
 * const env: Env = { BATON_STAGE: 'generate', BATON_BUCKET: 'claims' };
 * ```
 */
export type Env = Record<string, string | undefined>;

/**
 * The error of a deployment set up wrong (a missing variable, a secret the role may not read): a
 * fatal `ConfigurationError`, never retried, whose message says what to set or grant.
 *
 * @example
 * ```ts
 * throw configurationError('BATON_BUCKET is not set: set it to the claim-check bucket', { variable: 'BATON_BUCKET' });
 * ```
 */
export function configurationError(message: string, details: Record<string, unknown> = {}): StageError {
  return new StageError('ConfigurationError', message, { retryable: false, details });
}

/** A variable's trimmed value; empty counts as unset. */
export function envValue(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/** A variable that must be set, or a `ConfigurationError` naming it and why it is needed. */
export function requireEnv(env: Env, name: string, why: string): string {
  const value = envValue(env, name);
  if (value === undefined) throw configurationError(`${name} is not set: ${why}`, { variable: name });
  return value;
}

/**
 * The AWS SDK client configuration an environment implies: `awsEnvConfig` of `@baton/stages` (empty
 * for `process.env`, where the SDK reads `AWS_REGION`, `AWS_ENDPOINT_URL_<SERVICE>` and the
 * credentials itself; applied by hand for another object, so a test never edits `process.env`).
 *
 * @example
 * ```ts
 * const s3 = new S3Client(awsClientConfig({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }, 'S3'));
 * ```
 */
export const awsClientConfig: (env: Env, service: string) => AwsClientConfig = awsEnvConfig;

/**
 * Runs `create` once and keeps its promise; a failure is dropped, so the next call tries again
 * (a Lambda sandbox must not stay broken after one unreachable dependency).
 */
export function once<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
}
