import { CliError } from '../errors.js';
import type { GlobalOptions } from '../context.js';
import { openRegistry } from '../registry/open.js';

/**
 * `baton status <run> --registry` and `baton list --registry`: what the run registry holds
 * (ingesting the event spool first), as JSON.
 */
export async function registryCommand(runId: string | undefined, global: GlobalOptions): Promise<number> {
  const { resolve } = await import('node:path');
  const registry = await openRegistry(resolve(global.stateDir), global.databaseUrl ?? process.env.DATABASE_URL);
  try {
    const out = runId === undefined ? await registry.registry.listRuns() : await registry.registry.getRun(runId);
    if (out === undefined) throw new CliError(`run "${runId}" is not in the run registry (${registry.location})`);
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  } finally {
    await registry.close();
  }
}
