import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createPostgresRegistry, type RunRegistry } from '@baton/registry';
import { awsClientConfig, configurationError, envValue, type Env } from './env.js';
import { readSecret } from './secrets.js';

/**
 * The variable naming the registry database's secret.
 *
 * @example
 * ```ts
 * const arn = process.env[DATABASE_SECRET_VARIABLE]; // BATON_DATABASE_SECRET_ARN
 * ```
 */
export const DATABASE_SECRET_VARIABLE = 'BATON_DATABASE_SECRET_ARN';

/**
 * The PostgreSQL connection string in a database secret's `SecretString`: a `postgres://` (or
 * `postgresql://`) URL as it is, or the JSON that RDS and Secrets Manager rotation keep
 * (`{"host","port","username","password","dbname"}`, port 5432 and database `postgres` by
 * default), turned into a URL with `sslmode` from the JSON (`"sslmode"`) or `verify-full`: RDS
 * speaks TLS, and Node trusts the RDS certificate authority when the function sets
 * `NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem`. Anything else is a `ConfigurationError` that
 * never quotes the secret.
 *
 * @example
 * ```ts
 * connectionStringOf('{"host":"db.internal","username":"baton","password":"s3cret","dbname":"registry"}', arn);
 * // 'postgres://baton:s3cret@db.internal:5432/registry?sslmode=verify-full'
 * ```
 */
export function connectionStringOf(secret: string, arn: string): string {
  const text = secret.trim();
  if (/^postgres(ql)?:\/\//.test(text)) return text;
  const wrong = (what: string): Error =>
    configurationError(
      `secret "${arn}" (named by ${DATABASE_SECRET_VARIABLE}) ${what}: store a postgres:// URL or the RDS JSON {"host","port","username","password","dbname"}`,
      {
        secretId: arn,
        variable: DATABASE_SECRET_VARIABLE,
      },
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw wrong('is neither a postgres:// URL nor JSON');
  }
  const s = (parsed ?? {}) as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof s[k] === 'string' && s[k] !== '' ? (s[k] as string) : undefined);
  const host = str('host');
  const username = str('username');
  if (!host || !username) throw wrong(`is JSON without ${host ? '' : '"host"'}${!host && !username ? ' and ' : ''}${username ? '' : '"username"'}`);
  const port = typeof s.port === 'number' || typeof s.port === 'string' ? String(s.port) : '5432';
  const password = str('password');
  const auth = encodeURIComponent(username) + (password === undefined ? '' : `:${encodeURIComponent(password)}`);
  const dbname = str('dbname') ?? 'postgres';
  return `postgres://${auth}@${host}:${port}/${encodeURIComponent(dbname)}?sslmode=${encodeURIComponent(str('sslmode') ?? 'verify-full')}`;
}

/**
 * Opens the run registry named by `BATON_DATABASE_SECRET_ARN` (secret read once, migrations
 * applied, a small pool: a Lambda sandbox runs one invocation at a time). `undefined` when the
 * variable is unset. Errors: the secret's (see `readSecret`), and the registry's typed connection
 * errors (`ServiceUnavailableException` for an unreachable server, `ConfigurationError` for refused
 * credentials or a missing database).
 */
export async function openRegistryFromEnv(env: Env, secrets?: SecretsManagerClient): Promise<RunRegistry | undefined> {
  const arn = envValue(env, DATABASE_SECRET_VARIABLE);
  if (!arn) return undefined;
  const client = secrets ?? new SecretsManagerClient(awsClientConfig(env, 'SECRETS_MANAGER'));
  const connectionString = connectionStringOf(await readSecret(arn, { client, variable: DATABASE_SECRET_VARIABLE }), arn);
  return createPostgresRegistry({ connectionString, maxConnections: 2 });
}
