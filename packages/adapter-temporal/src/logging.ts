import { Runtime, type LogLevel as TemporalLogLevel, type Logger as TemporalLogger, type LogMetadata } from '@temporalio/worker';
import type { Logger } from '@baton/core';

/**
 * Turns a Baton {@link Logger} into the logger interface of the Temporal SDK: TRACE and DEBUG
 * lines go to `debug`, INFO, WARN and ERROR to their namesakes; the SDK's metadata becomes the
 * line's fields (its `sdkComponent` as `temporal`, errors as their message).
 *
 * @example
 * ```ts
 * Runtime.install({ logger: toTemporalLogger(createJsonLogger({ level: 'warn' })) });
 * ```
 */
export function toTemporalLogger(logger: Logger): TemporalLogger {
  const log = (level: TemporalLogLevel, message: string, meta?: LogMetadata): void => {
    const fields = fieldsOf(meta);
    if (level === 'TRACE' || level === 'DEBUG') logger.debug(message, fields);
    else if (level === 'INFO') logger.info(message, fields);
    else if (level === 'WARN') logger.warn(message, fields);
    else logger.error(message, fields);
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}

interface Route {
  logger: Logger;
  taskQueue: string;
}

const routes = new Set<Route>();
let installed: boolean | undefined;

/**
 * Sends the Temporal SDK's logs (the Runtime's, its workers', and the Rust core's, forwarded) to
 * `logger` while the returned release function has not been called: a silent logger silences
 * them. The Runtime is one per process and is installed here, before the first connection, with
 * a logger that routes each line to the workers alive in this process (to the one of its task
 * queue when the line names one, else to every one). A Runtime installed earlier by the
 * application keeps its own logger: Baton does not replace it.
 *
 * @example
 * ```ts
 * const release = routeTemporalLogs(logger, 'reports');
 * // … create the connection and the worker, run it …
 * release();
 * ```
 */
export function routeTemporalLogs(logger: Logger, taskQueue: string): () => void {
  installed ??= install();
  const route: Route = { logger, taskQueue };
  routes.add(route);
  return () => {
    routes.delete(route);
  };
}

function install(): boolean {
  try {
    Runtime.install({
      logger: toTemporalLogger(routingLogger),
      // the Rust core prints to the console unless its lines are forwarded to the Runtime's logger
      telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
    });
    return true;
  } catch {
    // the application installed its Runtime (and chose its logger) first
    return false;
  }
}

const emit =
  (level: 'debug' | 'info' | 'warn' | 'error') =>
  (msg: string, fields?: Record<string, unknown>): void => {
    const queue = fields?.taskQueue;
    const own = [...routes].filter((r) => r.taskQueue === queue);
    const targets = new Set((own.length ? own : [...routes]).map((r) => r.logger));
    for (const logger of targets) logger[level](msg, fields);
  };

/** The Runtime's logger: it answers to whichever workers of this process are alive when a line comes. */
const routingLogger: Logger = {
  debug: emit('debug'),
  info: emit('info'),
  warn: emit('warn'),
  error: emit('error'),
  child: () => routingLogger,
};

function fieldsOf(meta: LogMetadata | undefined): Record<string, unknown> | undefined {
  if (!meta) return undefined;
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (key === 'sdkComponent') fields.temporal = value;
    else fields[key] = value instanceof Error ? `${value.name}: ${value.message}` : value;
  }
  return fields;
}
