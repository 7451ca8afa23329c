import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { StageError } from '@baton/core';

/** The error of a deployment that is set up wrong: fatal, never retried, and says what to fix. */
export function configurationError(message: string, details: Record<string, unknown> = {}): StageError {
  return new StageError('ConfigurationError', message, { retryable: false, details });
}

/** Whether a configured value is an http(s) URL (`new URL` alone also accepts `host:8000/v1`). */
export function isHttpUrl(text: string): boolean {
  try {
    return /^https?:$/.test(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** Region, endpoint and credentials an AWS SDK client takes from an environment. */
export interface AwsEnvConfig {
  region?: string;
  endpoint?: string;
  maxAttempts?: number;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * The client configuration that an environment other than `process.env` implies, by the AWS SDK's
 * own rules: `AWS_REGION` (or `AWS_DEFAULT_REGION`), `AWS_ENDPOINT_URL_<SERVICE>` then
 * `AWS_ENDPOINT_URL` (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), and static credentials
 * from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, `AWS_MAX_ATTEMPTS`. For `process.env` it is
 * empty: the SDK reads those variables (and the shared config files) itself.
 *
 * @param service - the service's env suffix, e.g. `SECRETS_MANAGER`, `SNS`, `EVENTBRIDGE`, `BEDROCK_RUNTIME`
 *
 * @example
 * ```ts
 * const sns = new SNSClient(awsEnvConfig({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }, 'SNS'));
 * ```
 */
export function awsEnvConfig(env: NodeJS.ProcessEnv, service: string): AwsEnvConfig {
  if (env === process.env) return {};
  const out: AwsEnvConfig = {};
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region) out.region = region;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== 'true') {
    const endpoint = env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
    if (endpoint) out.endpoint = endpoint;
  }
  const attempts = Number(env.AWS_MAX_ATTEMPTS);
  if (Number.isInteger(attempts) && attempts > 0) out.maxAttempts = attempts;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    out.credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  return out;
}

/**
 * Reads a secret's SecretString. What a deployment can fix (no such secret, access denied, a KMS
 * key it may not use, a binary secret) is a `ConfigurationError` naming the secret, the variable
 * that names it and the IAM action; throttling and unavailability stay retryable.
 *
 * @param variable - the environment variable that named the secret (quoted in messages)
 *
 * @example
 * ```ts
 * const key = await readSecretString(new SecretsManagerClient({}), process.env.BATON_OPENAI_KEY_SECRET_ARN!, 'BATON_OPENAI_KEY_SECRET_ARN');
 * ```
 */
export async function readSecretString(client: SecretsManagerClient, secretId: string, variable: string): Promise<string> {
  const details = { secretId, variable };
  let res;
  try {
    res = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  } catch (e) {
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const why = `${err.name ?? 'Error'}: ${err.message ?? ''}`;
    switch (err.name) {
      case 'ResourceNotFoundException':
        throw configurationError(
          `Secrets Manager has no secret "${secretId}" (named by ${variable}): create it, or set ${variable} to the right ARN; the function's role needs secretsmanager:GetSecretValue on it (${why})`,
          details,
        );
      case 'AccessDeniedException':
        throw configurationError(
          `the function's role may not read secret "${secretId}" (named by ${variable}): allow secretsmanager:GetSecretValue on it, and kms:Decrypt on its key if it uses a customer managed KMS key (${why})`,
          details,
        );
      case 'DecryptionFailure':
        throw configurationError(
          `secret "${secretId}" (named by ${variable}) cannot be decrypted: allow kms:Decrypt on its KMS key to the function's role (${why})`,
          details,
        );
      case 'InvalidRequestException':
      case 'InvalidParameterException':
        throw configurationError(`secret "${secretId}" (named by ${variable}) cannot be read: ${why}`, details);
      case 'ThrottlingException':
        throw new StageError('ThrottlingException', `Secrets Manager throttled reading "${secretId}": ${why}`, { details });
      default:
        throw new StageError('ServiceUnavailableException', `Secrets Manager could not be reached to read "${secretId}" (named by ${variable}): ${why}`, {
          details: { ...details, httpStatus: err.$metadata?.httpStatusCode ?? null },
        });
    }
  }
  if (typeof res.SecretString !== 'string' || res.SecretString === '') {
    throw configurationError(
      `secret "${secretId}" (named by ${variable}) has no SecretString (a binary or empty secret): store the value as a string`,
      details,
    );
  }
  return res.SecretString;
}

/**
 * Reads a secret once: the first call's promise is kept, and dropped again if it fails, so a
 * transient failure is retried by the next call while a success is never read twice.
 */
export function cachedSecret(read: () => Promise<string>): () => Promise<string> {
  let pending: Promise<string> | undefined;
  return () => {
    pending ??= read().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
}
