import { StageError } from '@baton/core';
import pg from 'pg';
import { postgresConnectionError, postgresTargetOf } from './connection-errors.js';
import { createSqlRegistry, type SqlRegistryOptions } from './sql-registry.js';
import { checkSchemaName, type SqlClient, type SqlExecutor } from './sql.js';
import type { RunRegistry } from './types.js';

/** Options of {@link createPostgresRegistry}. */
export interface PostgresRegistryOptions extends SqlRegistryOptions {
  /** `postgres://user@host:port/db`. @default process.env.DATABASE_URL */
  connectionString?: string;
  /** Use this pool instead of opening one; the registry then leaves it open on `close()`. */
  pool?: pg.Pool;
  /** Keep the tables in this schema (created if missing). @default the connection's search_path */
  schema?: string;
  /** @default 10 */
  maxConnections?: number;
  /** How long opening a connection may take before it fails with `ServiceUnavailableException` (ignored with `pool`). @default 5000 */
  connectionTimeoutMillis?: number;
}

/**
 * The production registry: PostgreSQL through `pg`. Applies the migrations on creation.
 *
 * A server that cannot be reached (refused, unresolved, timed out, not accepting connections)
 * fails with a retryable `ServiceUnavailableException`; refused credentials or a missing
 * database with a `ConfigurationError`, which is never retried. Both name host:port/database,
 * never the password, and say what to check. SQL errors pass through unchanged.
 *
 * @example
 * ```ts
 * const registry = await createPostgresRegistry({ connectionString: process.env.DATABASE_URL });
 * const engine = createLocalEngine({ pipelines, observer: createRegistryObserver(registry) });
 * ```
 */
export async function createPostgresRegistry(options: PostgresRegistryOptions = {}): Promise<RunRegistry> {
  const client = await createPostgresClient(options);
  try {
    return await createSqlRegistry(client, options);
  } catch (e) {
    await client.close().catch(() => undefined);
    throw e;
  }
}

/** A {@link SqlClient} over a `pg` pool. */
export async function createPostgresClient(options: PostgresRegistryOptions = {}): Promise<SqlClient> {
  const schema = options.schema === undefined ? undefined : checkSchemaName(options.schema);
  let pool = options.pool;
  const owned = pool === undefined;
  if (!pool) {
    const connectionString = options.connectionString ?? process.env.DATABASE_URL;
    if (!connectionString)
      throw new StageError('ConfigurationError', 'createPostgresRegistry needs a connectionString (or DATABASE_URL)', { retryable: false });
    pool = new pg.Pool({
      connectionString,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5000,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    // an idle connection the server drops emits 'error' on the pool, which would otherwise crash
    // the process; the pool discards that client and the next query opens a new one
    pool.on('error', () => undefined);
  }
  const target = postgresTargetOf(pool);
  const typed = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      throw postgresConnectionError(e, target) ?? e;
    }
  };
  const p = pool;
  if (schema) {
    // IF NOT EXISTS still races between processes: a concurrent creator wins, which is fine
    await typed(() =>
      p.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch(async (e: unknown) => {
        const found = await p.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
        if (found.rowCount === 0) throw e;
      }),
    ).catch(async (e: unknown) => {
      if (owned) await p.end().catch(() => undefined);
      throw e;
    });
  }
  const executorOf = (c: pg.Pool | pg.PoolClient): SqlExecutor => ({
    query: <TRow>(text: string, params: readonly unknown[] = []) => typed(async () => (await c.query(text, params as unknown[])).rows as TRow[]),
    exec: (script: string) => typed(async () => void (await c.query(script))),
  });
  return {
    ...executorOf(p),
    async transaction(fn) {
      const c = await typed(() => p.connect());
      let broken = false;
      try {
        await c.query('BEGIN');
        const out = await fn(executorOf(c));
        await c.query('COMMIT');
        return out;
      } catch (e) {
        // a connection that cannot even roll back is dead: the pool must not hand it out again
        await c.query('ROLLBACK').catch(() => (broken = true));
        throw postgresConnectionError(e, target) ?? e;
      } finally {
        c.release(broken);
      }
    },
    async close() {
      if (owned) await p.end();
    },
  };
}
