import type { RedisOptions } from 'ioredis';

/** Where the engine's Redis is: a `redis://` URL or ioredis options. */
export type RedisConnection = string | RedisOptions;

/** Options shared by the BullMQ engine, its workers and the bull-board helper. */
export interface BullmqConnectionOptions {
  /** The Redis server holding queues and run journals. */
  connection: RedisConnection;
  /**
   * Namespace of every key: BullMQ's queue prefix and the run journals' prefix. Engines and
   * workers that share a prefix share runs; use one per deployment (or per test).
   * @default 'baton'
   */
  prefix?: string;
}

/** Default key prefix. */
export const DEFAULT_PREFIX = 'baton';

/**
 * ioredis options for a connection, with what BullMQ requires of blocking connections
 * (`maxRetriesPerRequest: null`).
 */
export function redisOptionsOf(connection: RedisConnection): RedisOptions {
  const base = typeof connection === 'string' ? parseRedisUrl(connection) : { ...connection };
  return { ...base, maxRetriesPerRequest: null };
}

function parseRedisUrl(url: string): RedisOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`not a redis:// URL: ${url}`);
  const out: RedisOptions = { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : 6379 };
  if (u.username) out.username = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  const db = u.pathname.replace(/^\//, '');
  if (db) out.db = Number(db);
  if (u.protocol === 'rediss:') out.tls = {};
  return out;
}
