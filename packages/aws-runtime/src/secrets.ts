import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsEnvConfig, readSecretString } from '@baton/stages';
import type { Env } from './env.js';

/** Options of {@link readSecret}. */
export interface ReadSecretOptions {
  /** A client to reuse (a Lambda keeps one per sandbox). @default one built from `env` */
  client?: SecretsManagerClient;
  /** Where the client's region, endpoint and credentials come from. @default process.env */
  env?: Env;
  /** The variable that named the secret, quoted in error messages. @default 'the function's configuration' */
  variable?: string;
}

/**
 * Reads a Secrets Manager secret's `SecretString` with the error mapping of `@baton/stages`'
 * `readSecretString`: what a deployment must fix is a fatal `ConfigurationError` naming the secret
 * and what to grant (no such secret or access denied: `secretsmanager:GetSecretValue`; a KMS key
 * the role may not use: `kms:Decrypt`; a binary or empty secret); throttling stays a retryable
 * `ThrottlingException`, anything else (the service unreachable) a retryable
 * `ServiceUnavailableException`.
 *
 * @example
 * ```ts
 * const url = await readSecret(process.env.BATON_DATABASE_SECRET_ARN!, { variable: 'BATON_DATABASE_SECRET_ARN' });
 * ```
 */
export async function readSecret(arn: string, options: ReadSecretOptions = {}): Promise<string> {
  const client = options.client ?? new SecretsManagerClient(awsEnvConfig(options.env ?? process.env, 'SECRETS_MANAGER'));
  return readSecretString(client, arn, options.variable ?? "the function's configuration");
}
