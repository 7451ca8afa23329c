// The command line proper: bin.ts checks the Node version first, then imports this.
import { isStageError } from '@baton/core';
import { CommanderError } from 'commander';
import { CliError } from './errors.js';
import { errorExitCode } from './exit-codes.js';
import { createProgram } from './program.js';

let code = 0;
try {
  await createProgram((c) => (code = c)).parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // commander already printed the message (or the help): usage errors exit 2, help exits 0.
    code = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof CliError) {
    process.stderr.write(`baton: ${e.message}\n`);
    code = e.exitCode;
  } else if (isStageError(e)) {
    process.stderr.write(`baton: ${e.code}: ${e.message}\n`);
    code = errorExitCode(e.code);
  } else {
    process.stderr.write(`baton: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    code = 70;
  }
}
// Engines were closed by the command; exit explicitly so no stray timer keeps the process alive.
process.exit(code);
