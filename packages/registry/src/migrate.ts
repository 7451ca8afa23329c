import { MIGRATIONS, type Migration } from './migrations.js';
import type { SqlClient } from './sql.js';

// An arbitrary constant: serialises concurrent migrators (several workers starting at once).
const MIGRATION_LOCK = 4_242_017;

/**
 * Applies the migrations not yet recorded in `baton_schema_migrations`, each in its own
 * transaction under an advisory lock; returns the versions applied now.
 */
export async function migrate(client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await client.exec(
    'CREATE TABLE IF NOT EXISTS baton_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    const done = await client.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const seen = await tx.query('SELECT 1 FROM baton_schema_migrations WHERE version = $1', [m.version]);
      if (seen.length > 0) return false;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO baton_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
