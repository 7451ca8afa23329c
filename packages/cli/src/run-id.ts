import { RUN_ID_RULE, assertRunId } from '@baton/core/engine';
import { InvalidArgumentError } from 'commander';

/** `--help` text of `--run-id`. */
export const RUN_ID_HELP = `run id to use (idempotent start): ${RUN_ID_RULE}`;

/**
 * Commander parser of `--run-id`: the id when core's `assertRunId` accepts it, a usage error
 * (exit 2) otherwise, so a bad id stops `baton run` before it uploads, writes or starts anything.
 *
 * @example
 * ```ts
 * program.option('--run-id <id>', RUN_ID_HELP, parseRunIdOption);
 * ```
 */
export function parseRunIdOption(value: string): string {
  try {
    return assertRunId(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}
