#!/usr/bin/env node
import { isStageError } from '@baton/core';
import { CliError } from './engines.js';
import { createProgram } from './program.js';

let code = 0;
try {
  await createProgram((c) => (code = c)).parseAsync(process.argv);
} catch (e) {
  if (e instanceof CliError) {
    process.stderr.write(`baton: ${e.message}\n`);
    code = e.exitCode;
  } else if (isStageError(e)) {
    process.stderr.write(`baton: ${e.code}: ${e.message}\n`);
    code = 1;
  } else {
    process.stderr.write(`baton: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    code = 70;
  }
}
// Engines were closed by the command; exit explicitly so no stray timer keeps the process alive.
process.exit(code);
