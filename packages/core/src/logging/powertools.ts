import { redact, type LogBindings, type Logger } from '../ports/logger.js';
import { scrubSecrets } from '../scrub.js';

/**
 * What {@link fromPowertools} needs of an AWS Lambda Powertools `Logger`: its `(message, extra)`
 * level methods, `createChild` and `appendPersistentKeys`. Structural, so core does not import
 * Powertools; `new Logger()` from `@aws-lambda-powertools/logger` (v2) fits.
 */
export interface PowertoolsLoggerLike {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
  createChild(): PowertoolsLoggerLike;
  appendPersistentKeys(attributes: Record<string, unknown>): void;
}

/**
 * A Baton {@link Logger} that writes through a Powertools logger, for stage Lambdas: lines keep
 * Powertools' shape (service, cold start, Lambda context, X-Ray trace id, sampling, log buffering)
 * and carry Baton's fields; `child` is a Powertools child with the bindings as persistent keys.
 * Secrets are redacted before Powertools sees them, as {@link createJsonLogger} does.
 *
 * @example
 * ```ts
 * import { Logger } from '@aws-lambda-powertools/logger';
 * import { fromPowertools } from '@baton/core';
 *
 * const logger = fromPowertools(new Logger({ serviceName: 'report-stages' }));
 * logger.child({ runId: 'r-1', stepPath: 'sections[2]/generate', attempt: 1 }).info('drafting', { words: 420 });
 * ```
 */
export function fromPowertools(powertools: PowertoolsLoggerLike): Logger {
  const extra = (f?: Record<string, unknown>): Record<string, unknown>[] => (f ? [redact(f) as Record<string, unknown>] : []);
  return {
    debug: (msg, f) => powertools.debug(scrubSecrets(msg), ...extra(f)),
    info: (msg, f) => powertools.info(scrubSecrets(msg), ...extra(f)),
    warn: (msg, f) => powertools.warn(scrubSecrets(msg), ...extra(f)),
    error: (msg, f) => powertools.error(scrubSecrets(msg), ...extra(f)),
    child: (bindings: LogBindings) => {
      const child = powertools.createChild();
      child.appendPersistentKeys(redact(bindings) as Record<string, unknown>);
      return fromPowertools(child);
    },
  };
}
