import type { Logger } from '@baton/core';
import type { LogBindings } from '@baton/core/engine';

/**
 * A logger for what a sandbox keeps across invocations (the registry observer, cold-start checks):
 * its lines go through the logger of the invocation in progress, so they carry that invocation's
 * `executionArn`, `step` and `attempt` too. A Lambda sandbox runs one invocation at a time.
 */
export function invocationLogger(base: Logger): { logger: Logger; use(log: Logger): Logger } {
  let current = base;
  const logger: Logger = {
    debug: (msg, fields) => current.debug(msg, fields),
    info: (msg, fields) => current.info(msg, fields),
    warn: (msg, fields) => current.warn(msg, fields),
    error: (msg, fields) => current.error(msg, fields),
    child: (bindings: LogBindings) => current.child(bindings),
  };
  return { logger, use: (log) => (current = log) };
}
