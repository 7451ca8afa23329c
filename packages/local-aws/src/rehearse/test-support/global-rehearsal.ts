import { startTestPostgres } from '@baton/registry/testkit/postgres';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

const REPO = resolve(import.meta.dirname, '../../../../..');

/**
 * vitest globalSetup of the `rehearsal` project: builds nothing. Starts (or, with DATABASE_URL,
 * uses) the PostgreSQL the rehearsed registry secret points at, and checks that what a rehearsal
 * runs is installed: moto server (each rehearsal starts its own, IAM enforced) and cfn-lint
 * (scripts/prereqs.sh installs both), and the built reference example the synthesized app imports.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = [process.env.MOTO_SERVER, join(REPO, '.venv-moto/bin/moto_server')].find((c) => c && existsSync(c)) ?? which('moto_server');
  if (!moto)
    throw new Error(
      'moto_server not found: run scripts/prereqs.sh (or python3 -m venv .venv-moto && .venv-moto/bin/pip install "moto[server]"), or set MOTO_SERVER',
    );
  const cfnLint = [process.env.CFN_LINT, join(REPO, '.venv-aws/bin/cfn-lint')].find((c) => c && existsSync(c)) ?? which('cfn-lint');
  if (!cfnLint) throw new Error('cfn-lint not found: run scripts/prereqs.sh (python3 -m venv .venv-aws && .venv-aws/bin/pip install cfn-lint)');
  for (const built of ['examples/report-generation/dist/index.js', 'packages/adapter-stepfunctions/dist/cdk/index.js', 'packages/aws-runtime/dist/index.js']) {
    if (!existsSync(join(REPO, built))) throw new Error(`${built} is missing: build first (npx turbo run build --filter=@baton/local-aws...)`);
  }
  const postgres = await startTestPostgres();
  project.provide('postgresUrl', postgres.url);
  return () => postgres.stop();
}

function which(binary: string): string | undefined {
  const out = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return out.status === 0 && out.stdout.trim() ? out.stdout.trim() : undefined;
}
