import { StageError } from '@baton/core';

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
 * Region, endpoint and credentials of an AWS SDK client, from an environment.
 *
 * @example
 * ```ts
 * const config: AwsClientConfig = { region: 'us-east-1', endpoint: 'http://127.0.0.1:5000' };
 * ```
 */
export interface AwsClientConfig {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * The AWS SDK client configuration an environment implies. For `process.env` it is empty: the SDK
 * reads `AWS_REGION`, `AWS_ENDPOINT_URL_<SERVICE>` and the credentials itself. For another object
 * (tests, rehearsals) the same variables are applied by hand, so a test never edits `process.env`.
 *
 * @param service the SDK's suffix of `AWS_ENDPOINT_URL_<SERVICE>`: `S3`, `SECRETS_MANAGER`, `SFN`…
 *
 * @example
 * ```ts
 * const s3 = new S3Client(awsClientConfig({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }, 'S3'));
 * ```
 */
export function awsClientConfig(env: Env, service: string): AwsClientConfig {
  if (env === process.env) return {};
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const endpoint = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true' ? undefined : (env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL);
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  return {
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
  };
}

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
