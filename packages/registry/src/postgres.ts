import pg from 'pg';
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
}

/**
 * The production registry: PostgreSQL through `pg`. Applies the migrations on creation.
 *
 * @example
 * ```ts
 * const registry = await createPostgresRegistry({ connectionString: process.env.DATABASE_URL });
 * const engine = createLocalEngine({ pipelines, observer: createRegistryObserver(registry) });
 * ```
 */
export async function createPostgresRegistry(options: PostgresRegistryOptions = {}): Promise<RunRegistry> {
  return createSqlRegistry(await createPostgresClient(options), options);
}

/** A {@link SqlClient} over a `pg` pool. */
export async function createPostgresClient(options: PostgresRegistryOptions = {}): Promise<SqlClient> {
  const schema = options.schema === undefined ? undefined : checkSchemaName(options.schema);
  let pool = options.pool;
  const owned = pool === undefined;
  if (!pool) {
    const connectionString = options.connectionString ?? process.env.DATABASE_URL;
    if (!connectionString) throw new Error('createPostgresRegistry needs a connectionString (or DATABASE_URL)');
    pool = new pg.Pool({
      connectionString,
      max: options.maxConnections ?? 10,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
  }
  if (schema) {
    // IF NOT EXISTS still races between processes: a concurrent creator wins, which is fine
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch(async (e: unknown) => {
      const found = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (found.rowCount === 0) throw e;
    });
  }
  const p = pool;
  const executorOf = (c: pg.Pool | pg.PoolClient): SqlExecutor => ({
    async query<TRow>(text: string, params: readonly unknown[] = []) {
      const result = await c.query(text, params as unknown[]);
      return result.rows as TRow[];
    },
    async exec(script: string) {
      await c.query(script);
    },
  });
  return {
    ...executorOf(p),
    async transaction(fn) {
      const c = await p.connect();
      try {
        await c.query('BEGIN');
        const out = await fn(executorOf(c));
        await c.query('COMMIT');
        return out;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        c.release();
      }
    },
    async close() {
      if (owned) await p.end();
    },
  };
}
