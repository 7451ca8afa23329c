import { PGlite, type Transaction } from '@electric-sql/pglite';
import { createSqlRegistry, type SqlRegistryOptions } from './sql-registry.js';
import { checkSchemaName, type SqlClient, type SqlExecutor } from './sql.js';
import type { RunRegistry } from './types.js';

/** Options of {@link createPgliteRegistry}. */
export interface PgliteRegistryOptions extends SqlRegistryOptions {
  /** Directory of the embedded database. @default in memory */
  dataDir?: string;
  /** Use this PGlite instance instead of opening one; the registry then leaves it open on `close()`. */
  db?: PGlite;
  /** Keep the tables in this schema (created if missing). @default public */
  schema?: string;
}

/**
 * The zero-setup registry: PGlite (PostgreSQL compiled to WebAssembly, in process), in memory or
 * in a directory. Same SQL and migrations as {@link createPostgresRegistry}.
 *
 * @example
 * ```ts
 * const registry = await createPgliteRegistry({ dataDir: '.baton/registry' });
 * ```
 */
export async function createPgliteRegistry(options: PgliteRegistryOptions = {}): Promise<RunRegistry> {
  return createSqlRegistry(await createPgliteClient(options), options);
}

/** A {@link SqlClient} over PGlite. */
export async function createPgliteClient(options: PgliteRegistryOptions = {}): Promise<SqlClient> {
  const owned = options.db === undefined;
  const db = options.db ?? (await PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir }));
  if (options.schema !== undefined) {
    const schema = checkSchemaName(options.schema);
    await db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
  }
  const executorOf = (c: PGlite | Transaction): SqlExecutor => ({
    async query<TRow>(text: string, params: readonly unknown[] = []) {
      const result = await c.query<TRow>(text, params as unknown[]);
      return result.rows;
    },
    async exec(script: string) {
      await c.exec(script);
    },
  });
  return {
    ...executorOf(db),
    transaction: (fn) => db.transaction((tx) => fn(executorOf(tx))),
    async close() {
      if (owned) await db.close();
    },
  };
}
