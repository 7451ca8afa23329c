import { redact, type LogBindings, type Logger } from '../ports/logger.js';
import { scrubSecrets } from '../scrub.js';

/**
 * What {@link fromPino} needs of a pino logger: its `(obj, msg)` level methods and `child`.
 * Structural, so core does not import pino; a `pino()` logger fits.
 */
export interface PinoLike {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): PinoLike;
}

/**
 * A Baton {@link Logger} that writes through a pino logger: Baton's `(msg, fields)` becomes pino's
 * `(fields, msg)`, `child` a pino child. Secrets are redacted before pino sees them (secret-looking
 * keys and credentials inside strings, as {@link createJsonLogger} does); pino's own `redact`
 * option still applies on top. Levels and destination are pino's.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { createLocalEngine, fromPino } from '@baton/core';
 *
 * const engine = createLocalEngine({ pipelines: [report], logger: fromPino(pino({ level: 'debug' })) });
 * ```
 */
export function fromPino(pino: PinoLike): Logger {
  const fields = (f?: Record<string, unknown>): object => (f ? (redact(f) as object) : {});
  return {
    debug: (msg, f) => pino.debug(fields(f), scrubSecrets(msg)),
    info: (msg, f) => pino.info(fields(f), scrubSecrets(msg)),
    warn: (msg, f) => pino.warn(fields(f), scrubSecrets(msg)),
    error: (msg, f) => pino.error(fields(f), scrubSecrets(msg)),
    child: (bindings: LogBindings) => fromPino(pino.child(redact(bindings) as Record<string, unknown>)),
  };
}
