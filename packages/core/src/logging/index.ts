/**
 * `@baton/core/logging`: loggers a project already has, as Baton's `Logger` (the root entry has
 * `createJsonLogger` and `silentLogger`). Neither pino nor Powertools is a dependency: pass your
 * own instance.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { createLocalEngine } from '@baton/core';
 * import { fromPino } from '@baton/core/logging';
 *
 * const engine = createLocalEngine({ pipelines, logger: fromPino(pino()) });
 * ```
 *
 * @packageDocumentation
 */
export { fromPino, type PinoLike } from './pino.js';
export { fromPowertools, type PowertoolsLoggerLike } from './powertools.js';
