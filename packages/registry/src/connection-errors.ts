import { isStageError, StageError } from '@baton/core';
import pg from 'pg';

/** The server a registry connects to, as error messages name it (never with the password). */
export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  /** The connect timeout in force, in milliseconds (0: none). */
  connectTimeoutMs: number;
  /** Only to scrub it from messages, should a driver ever echo it. */
  password?: string;
}

/** Where a pool connects, read by pg itself (connection string, PG* environment variables, defaults). */
export function postgresTargetOf(pool: pg.Pool): PostgresTarget {
  const c = new pg.Client(pool.options);
  const target: PostgresTarget = {
    host: c.host,
    port: c.port,
    database: c.database ?? c.user ?? '',
    user: c.user ?? '',
    connectTimeoutMs: pool.options.connectionTimeoutMillis ?? 0,
  };
  if (typeof c.password === 'string' && c.password.length > 0) target.password = c.password;
  return target;
}

// Node's network errors: the server or the route to it is down, or the name does not resolve (yet)
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EPIPE', 'EADDRNOTAVAIL']);
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN']);
// SQLSTATEs of a server that is up but not taking this connection now: retry later
const BUSY = new Set(['57P01', '57P02', '57P03', '53300']);
const TLS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/;

/**
 * Maps a failure to reach the registry's PostgreSQL to a {@link StageError}:
 * `ServiceUnavailableException` (retryable) when the server cannot be reached, does not resolve,
 * times out or is not accepting connections; `ConfigurationError` (never retried) when it refuses
 * the credentials, has no such database, or TLS is misconfigured. Anything else (an SQL error)
 * is left alone: undefined.
 */
export function postgresConnectionError(error: unknown, target: PostgresTarget): StageError | undefined {
  if (isStageError(error)) return undefined;
  const e = first(error);
  const code = typeof e.code === 'string' ? e.code : '';
  const reason = scrub(String(e.message ?? error), target);
  const at = `${target.host}:${target.port}/${target.database}`;
  const details = { host: target.host, port: target.port, database: target.database, user: target.user, reason: code || reason };
  const unavailable = (message: string): StageError => new StageError('ServiceUnavailableException', message, { retryable: true, details, cause: error });
  const misconfigured = (message: string): StageError => new StageError('ConfigurationError', message, { retryable: false, details, cause: error });

  // the driver's own connect failures carry no code; a server's SQL error always has its SQLSTATE
  const driver = code === '';
  if (code === '28P01' || code === '28000' || (driver && reason.startsWith('SASL:'))) {
    return misconfigured(
      `the registry PostgreSQL at ${at} refused user "${target.user}" (${reason}): check the user and password in the connection string or database secret, and that pg_hba.conf (or RDS) admits this host with this sslmode`,
    );
  }
  if (code === '3D000')
    return misconfigured(
      `the registry PostgreSQL at ${at} has no database "${target.database}": create it, or fix the database name in the connection string or secret`,
    );
  if (TLS.test(code) || (driver && /\bSSL\b/.test(reason))) {
    return misconfigured(
      `TLS to the registry PostgreSQL at ${at} failed (${code || reason}): check sslmode and the CA certificate (RDS: the region's rds-ca bundle)`,
    );
  }
  if (UNRESOLVED.has(code)) {
    return unavailable(
      `cannot resolve the host of the registry PostgreSQL at ${at} (${code}): check the host name and that DNS resolves it from this network (VPC DNS)`,
    );
  }
  if (UNREACHABLE.has(code)) {
    return unavailable(
      `cannot reach the registry PostgreSQL at ${at} (${code}): check that the server is running and accepts connections from here (host, port, security group, VPC route)`,
    );
  }
  if (BUSY.has(code) || code.startsWith('08')) {
    return unavailable(`the registry PostgreSQL at ${at} is not accepting connections (${code}: ${reason}): check the server's state and max_connections`);
  }
  if (driver && /timeout (expired|exceeded)|connection timeout/i.test(reason)) {
    return unavailable(
      `no connection to the registry PostgreSQL at ${at} within ${target.connectTimeoutMs} ms: check that the server is up and that the network lets this host reach it (security group, VPC route)`,
    );
  }
  if (driver && /^Connection terminated/.test(reason))
    return unavailable(`the registry PostgreSQL at ${at} closed the connection (${reason}): check the server's state and logs`);
  return undefined;
}

/** Node reports a refused dual-stack connect as an AggregateError of the attempts. */
function first(error: unknown): { code?: unknown; message?: unknown } {
  const e = (error ?? {}) as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof e.code !== 'string' && Array.isArray(e.errors) && e.errors.length > 0) return first(e.errors[0]);
  return e;
}

function scrub(text: string, target: PostgresTarget): string {
  return target.password ? text.split(target.password).join('***') : text;
}
