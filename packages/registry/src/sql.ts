/** Runs parameterised SQL. Values are always passed as parameters, never spliced into the text. */
export interface SqlExecutor {
  /** One statement with `$1`-style parameters; returns its rows. */
  query<TRow = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<TRow[]>;
  /** A parameterless script of several statements (migrations only). */
  exec(script: string): Promise<void>;
}

/** A database the registry can use: PostgreSQL through `pg`, or PGlite. */
export interface SqlClient extends SqlExecutor {
  /** Runs `fn` in one transaction, committed when it resolves and rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a schema name before it is used as an identifier (identifiers cannot be parameters). */
export function checkSchemaName(schema: string): string {
  if (!IDENTIFIER.test(schema)) throw new Error(`registry schema "${schema}" must match ${IDENTIFIER.source}`);
  return schema;
}

/** A timestamp column as an ISO string (pg and PGlite return `Date`). */
export function isoOf(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  return new Date(String(value)).toISOString();
}

/** A numeric column as a number (pg returns int8 and numeric as strings). */
export function numberOf(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : Number(value);
}
