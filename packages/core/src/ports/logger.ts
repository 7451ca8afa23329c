import { scrubSecrets } from '../scrub.js';

/** Fields every log line of a step carries. */
export interface LogBindings {
  runId?: string;
  executionId?: string;
  stepPath?: string;
  attempt?: number;
  [key: string]: unknown;
}

/** Log severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A structured logger: one JSON object per line, bindings included, secrets redacted. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines also carry `bindings`. */
  child(bindings: LogBindings): Logger;
}

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Lowest level written. @default 'info' */
  level?: LogLevel;
  /** Where lines go. @default process.stderr */
  write?: (line: string) => void;
  /** Fields on every line. */
  bindings?: LogBindings;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
// `token` but not `tokens`: `inputTokens` / `outputTokens` are usage figures the logs must keep
const SECRET_KEY = /token(?!s)|secret|password|passwd|authorization|api[-_]?key|credential/i;

/**
 * A JSON-lines logger compatible with pino's line format (`level`, `time`, `msg`). Any field whose
 * name looks like a secret (token, password, apiKey, authorization…) is written as `[redacted]`.
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const make = (bindings: LogBindings): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
      if (ORDER[level] < min) return;
      write(JSON.stringify(redact({ level, time: new Date().toISOString(), ...bindings, ...fields, msg })));
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (b) => make({ ...bindings, ...b }),
    };
  };
  return make(options.bindings ?? {});
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** Replaces values of secret-looking keys with `[redacted]` and scrubs credentials out of every string ({@link scrubSecrets}), recursively. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  // past the depth limit nothing is inspected, so nothing is written: a deep secret must not leak
  if (depth > 8) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}
