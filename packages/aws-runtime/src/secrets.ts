import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { StageError } from '@baton/core';
import { awsClientConfig, configurationError, type Env } from './env.js';

/** Options of {@link readSecret}. */
export interface ReadSecretOptions {
  /** A client to reuse (a Lambda keeps one per sandbox). @default one built from `env` */
  client?: SecretsManagerClient;
  /** Where the client's region, endpoint and credentials come from. @default process.env */
  env?: Env;
  /** The variable that named the secret, quoted in error messages. */
  variable?: string;
}

/**
 * Reads a Secrets Manager secret's `SecretString`. What a deployment must fix is a fatal
 * `ConfigurationError` naming the secret and what to grant: no such secret or access denied
 * (`secretsmanager:GetSecretValue` on the ARN), a KMS key the role may not use (`kms:Decrypt`), a
 * binary or empty secret. Throttling stays a retryable `ThrottlingException`, anything else (the
 * service unreachable) a retryable `ServiceUnavailableException`.
 *
 * @example
 * ```ts
 * const url = await readSecret(process.env.BATON_DATABASE_SECRET_ARN!, { variable: 'BATON_DATABASE_SECRET_ARN' });
 * ```
 */
export async function readSecret(arn: string, options: ReadSecretOptions = {}): Promise<string> {
  const client = options.client ?? new SecretsManagerClient(awsClientConfig(options.env ?? process.env, 'SECRETS_MANAGER'));
  const named = options.variable ? ` (named by ${options.variable})` : '';
  const details = { secretId: arn, ...(options.variable ? { variable: options.variable } : {}) };
  let value: string | undefined;
  try {
    value = (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
  } catch (e) {
    const err = e as { name?: string; message?: string };
    const why = `${err.name ?? 'Error'}: ${err.message ?? ''}`;
    switch (err.name) {
      case 'ResourceNotFoundException':
        throw configurationError(`Secrets Manager has no secret "${arn}"${named}: create it or fix the ARN; the function's role needs secretsmanager:GetSecretValue on it (${why})`, details);
      case 'AccessDeniedException':
        throw configurationError(`the function's role may not read secret "${arn}"${named}: allow secretsmanager:GetSecretValue on it (and kms:Decrypt on a customer managed key) (${why})`, details);
      case 'DecryptionFailure':
        throw configurationError(`secret "${arn}"${named} cannot be decrypted: allow kms:Decrypt on its KMS key to the function's role (${why})`, details);
      case 'InvalidRequestException':
      case 'InvalidParameterException':
        throw configurationError(`secret "${arn}"${named} cannot be read: ${why}`, details);
      case 'ThrottlingException':
        throw new StageError('ThrottlingException', `Secrets Manager throttled reading "${arn}": ${why}`, { details });
      default:
        throw new StageError('ServiceUnavailableException', `Secrets Manager could not be reached to read "${arn}"${named}: ${why}`, { details });
    }
  }
  if (typeof value !== 'string' || value === '') throw configurationError(`secret "${arn}"${named} has no SecretString (binary or empty): store the value as a string`, details);
  return value;
}
