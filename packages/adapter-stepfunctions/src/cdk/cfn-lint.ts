import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** One finding of cfn-lint (`--format json`). */
export interface CfnLintFinding {
  Rule: { Id: string; Description: string };
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Location: { Path?: (string | number)[] };
  Filename?: string;
}

/**
 * Runs cfn-lint (PyPI `cfn-lint`) once on CloudFormation template files and returns their findings
 * (`Filename` says whose).
 * Looks for the binary in `CFN_LINT`, then `<repo>/.venv-aws/bin/cfn-lint` (what
 * `scripts/prereqs.sh` installs), then on PATH; throws saying how to install it when it is nowhere.
 * Used by the tests of synthesized templates; not part of any deployed code.
 */
export function cfnLint(templateFiles: string[]): CfnLintFinding[] {
  const bin = cfnLintBinary();
  const run = spawnSync(bin, ['--format', 'json', '--', ...templateFiles], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  // exit codes are a bit mask of the levels found (2 errors, 4 warnings, 8 informational); 1 is a crash
  if (run.status === 1 || !run.stdout.trim()) throw new Error(`cfn-lint failed (exit ${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as CfnLintFinding[];
}

function cfnLintBinary(): string {
  const repo = resolve(import.meta.dirname, '../../../..');
  const candidates = [process.env.CFN_LINT, join(repo, '.venv-aws', 'bin', 'cfn-lint')].filter((c): c is string => Boolean(c));
  for (const c of candidates) if (existsSync(c)) return c;
  try {
    return execFileSync('sh', ['-c', 'command -v cfn-lint'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'cfn-lint not found: run scripts/prereqs.sh (it installs it into .venv-aws), or python3 -m venv .venv-aws && .venv-aws/bin/pip install cfn-lint, or set CFN_LINT',
    );
  }
}
