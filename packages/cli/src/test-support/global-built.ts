import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../../../..');

/** The CLI end-to-end tests spawn the built CLI: fail clearly when it was not built. */
export default function setup(): void {
  const needed = ['packages/core/dist/index.js', 'packages/stages/dist/index.js', 'examples/report-generation/dist/index.js', 'packages/cli/dist/bin.js'];
  const missing = needed.filter((p) => !existsSync(join(ROOT, p)));
  if (missing.length)
    throw new Error(`the CLI tests run the built CLI, but ${missing.join(', ')} is missing: run "npm run build" at the repository root first`);
}
