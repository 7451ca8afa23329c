import { type RunObserver } from '@baton/core';
import { isProcessAlive } from '@baton/core/engine';
import type { RunRegistry } from '@baton/registry';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { createSpooledRegistry, createSpoolObserver } from './spool.js';

/** Where a CLI process records run events. */
export interface RunRecorder {
  observer: RunObserver;
  /** Waits for pending writes and closes the database connection, if any. */
  close(): Promise<void>;
}

/**
 * The recorder of every CLI process: with a Postgres URL, a registry observer writing the
 * database directly; otherwise the event spool under `<stateDir>/events`, ingested into the
 * PGlite registry by whoever opens it ({@link openRegistry}).
 */
export async function createRunRecorder(stateDir: string, databaseUrl: string | undefined): Promise<RunRecorder> {
  if (!databaseUrl) return { observer: createSpoolObserver(stateDir), close: async () => undefined };
  const { createPostgresRegistry, createRegistryObserver } = await import('@baton/registry');
  const registry = await postgres(createPostgresRegistry, databaseUrl);
  const observer = createRegistryObserver(registry);
  return {
    observer,
    async close() {
      await observer.flush();
      await registry.close();
    },
  };
}

/** An open registry with the spool already ingested (PGlite) and a way to release it. */
export interface OpenRegistry {
  registry: RunRegistry;
  /** Where it lives, for messages. */
  location: string;
  close(): Promise<void>;
}

/**
 * Opens the run registry for reading: Postgres when a URL is given, otherwise the PGlite database
 * in `<stateDir>/registry/pg`, which one process at a time may hold (`<stateDir>/registry/lock`
 * names it). Reads of a PGlite registry ingest the event spool first.
 */
export async function openRegistry(stateDir: string, databaseUrl: string | undefined): Promise<OpenRegistry> {
  const { createPgliteRegistry, createPostgresRegistry } = await import('@baton/registry');
  if (databaseUrl) {
    const registry = await postgres(createPostgresRegistry, databaseUrl);
    return { registry, location: redact(databaseUrl), close: () => registry.close() };
  }
  const dir = join(stateDir, 'registry');
  mkdirSync(dir, { recursive: true });
  const release = takeLock(join(dir, 'lock'));
  try {
    const spooled = createSpooledRegistry(await createPgliteRegistry({ dataDir: join(dir, 'pg') }), stateDir, join(dir, 'offsets.json'));
    await spooled.ingest();
    return {
      registry: spooled,
      location: `${join(dir, 'pg')} (PGlite)`,
      async close() {
        await spooled.close();
        release();
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}

/**
 * Opens the Postgres run registry at `url`, or throws a {@link CliError} (exit 2) naming the
 * server (never the password) and what to check.
 *
 * @example
 * ```ts
 * const registry = await openPostgresRegistry(process.env.DATABASE_URL!);
 * ```
 */
export async function openPostgresRegistry(url: string): Promise<RunRegistry> {
  const { createPostgresRegistry } = await import('@baton/registry');
  return postgres(createPostgresRegistry, url);
}

async function postgres(create: (o: { connectionString: string }) => Promise<RunRegistry>, url: string): Promise<RunRegistry> {
  try {
    return await create({ connectionString: url });
  } catch (e) {
    throw new CliError(
      `cannot open the run registry at ${redact(url)}: ${(e as Error).message}. Check --database-url / DATABASE_URL, or leave both unset to use the embedded PGlite registry under --state-dir.`,
    );
  }
}

/** An exclusive lock file holding the owner's pid; a lock left by a dead process is taken over. */
function takeLock(file: string): () => void {
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(file, 'utf8'));
      if (owner && owner !== process.pid && isProcessAlive(owner)) {
        throw new CliError(
          `the PGlite run registry is open in process ${owner} (a running "baton dashboard"?): it serves one process at a time. Look there, stop it, or use Postgres (--database-url).`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new CliError(`cannot lock ${file}`);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
