import { MIGRATIONS, type Migration } from './migrations.js';
import type { SqlClient } from './sql.js';

// An arbitrary constant: serialises concurrent migrators (several workers starting at once).
const MIGRATION_LOCK = 4_242_017;

/**
 * Applies the migrations not yet recorded in `baton_schema_migrations`, in one transaction under
 * an advisory lock, so processes starting together neither race nor half-apply; returns the
 * versions applied now.
 */
export async function migrate(client: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS baton_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await tx.query<{ version: number }>('SELECT version FROM baton_schema_migrations')).map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO baton_schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
