import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

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

/**
 * The same connection as BullMQ 6 takes it. BullMQ 6 declares its own `RedisOptions` (it talks
 * to ioredis, node-redis or Bun through a client adapter) and builds the ioredis client from
 * them; its type has no `retryStrategy: null`, which ioredis 6 reads as "never reconnect": a
 * strategy that returns null means the same.
 */
export function bullmqConnectionOf(connection: RedisConnection): ConnectionOptions {
  const { retryStrategy, ...rest } = redisOptionsOf(connection);
  // BullMQ's connection type is a union with client adapters; these plain ioredis options are its first member
  return { ...rest, ...(retryStrategy === undefined ? {} : { retryStrategy: retryStrategy ?? (() => null) }) } as ConnectionOptions;
}

/**
 * A new ioredis client on these options. ioredis 6 declares `RedisOptions` with optional fields
 * typed `T | undefined` but its constructor without `undefined`, which `exactOptionalPropertyTypes`
 * refuses; the options are ioredis's own, so they are handed over as its constructor takes them.
 */
export function newRedis(options: RedisOptions): Redis {
  return new Redis(options as never);
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
