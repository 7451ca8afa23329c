import type { Migration } from './migrations.js';

/*
 * Tables and statements of the PostgreSQL model limiter. Times are milliseconds of the database's
 * clock (`clock_timestamp()`), so limiters on machines whose clocks disagree share one window.
 */

/**
 * The limiter's schema, applied by `migrate(client, MODEL_QUOTA_MIGRATIONS)` when a limiter first
 * reaches the database. Numbered from 1001 so that it never collides with the registry's own
 * list (`MIGRATIONS`, 1, 2, …) in the shared `baton_schema_migrations` table: a database may hold
 * the limiter's tables, the registry's, or both.
 * - `baton_model_quota`: one row per model: core's `AdaptiveState` (the AIMD factor, the ceiling
 *   where the quota was last found, added by 1002, and the epoch of its last cut). Its row lock
 *   serialises every acquisition of that model.
 * - `baton_model_permit`: one row per permit still in the window or in flight: grant time,
 *   tokens counted (estimate, then actual), lease end while in flight (NULL once ended).
 */
export const MODEL_QUOTA_MIGRATIONS: readonly Migration[] = [
  {
    version: 1001,
    name: 'model quota limiter',
    sql: `
CREATE TABLE baton_model_quota (
  model text PRIMARY KEY,
  factor double precision NOT NULL DEFAULT 1,
  epoch bigint NOT NULL DEFAULT 0
);
CREATE TABLE baton_model_permit (
  model text NOT NULL REFERENCES baton_model_quota (model) ON DELETE CASCADE,
  id bigint GENERATED ALWAYS AS IDENTITY,
  granted_ms bigint NOT NULL,
  input_tokens bigint NOT NULL,
  output_tokens bigint NOT NULL,
  lease_until_ms bigint,
  PRIMARY KEY (model, id)
);
CREATE INDEX baton_model_permit_granted ON baton_model_permit (model, granted_ms);
`,
  },
  {
    version: 1002,
    name: 'model quota ceiling',
    sql: `ALTER TABLE baton_model_quota ADD COLUMN ceiling double precision NOT NULL DEFAULT 1;`,
  },
];

/** Creates the model's row if needed and locks it for the transaction: $1 model. */
export const LOCK_MODEL = `
INSERT INTO baton_model_quota (model) VALUES ($1)
ON CONFLICT (model) DO UPDATE SET model = excluded.model
RETURNING factor, ceiling, epoch`;

/**
 * Deletes the permits out of the window and no longer in flight, and reads the rest with the
 * database's time: $1 model, $2 window span (ms). One row at least (the clock), oldest first.
 */
export const READ_WINDOW = `
WITH clock AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms),
expired AS (
  DELETE FROM baton_model_permit p USING clock c
  WHERE p.model = $1 AND p.granted_ms <= c.now_ms - $2 AND (p.lease_until_ms IS NULL OR p.lease_until_ms <= c.now_ms)
)
SELECT c.now_ms, p.granted_ms, p.input_tokens, p.output_tokens,
  coalesce(p.lease_until_ms > c.now_ms, false) AS in_flight, coalesce(p.granted_ms > c.now_ms - $2, false) AS in_window
FROM clock c
LEFT JOIN baton_model_permit p ON p.model = $1 AND (p.granted_ms > c.now_ms - $2 OR p.lease_until_ms > c.now_ms)
ORDER BY p.granted_ms`;

/** Records a permit: $1 model, $2 grant time, $3 input, $4 output estimate, $5 lease (ms). */
export const GRANT = `
INSERT INTO baton_model_permit (model, granted_ms, input_tokens, output_tokens, lease_until_ms)
VALUES ($1, $2::bigint, $3, $4, $2::bigint + $5::bigint)
RETURNING id`;

/**
 * Ends a permit: $1 model, $2 permit id, $3 'ok' | 'throttled' | 'failed', $4/$5 actual input/output
 * (ok), $6 the provider's latency ms (-1: unknown), $7 the window's margin ms. ok: the actual usage
 * replaces the estimate, and with a latency the permit is placed as core's `receivedEntryAt` does
 * (it leaves one window after the provider received it: its end less the latency, never before the
 * grant, without the margin); throttled: no tokens (the provider refused the call); failed: the
 * input stays counted (the provider may have read it), no output.
 */
export const END_PERMIT = `
UPDATE baton_model_permit SET
  input_tokens = CASE $3::text WHEN 'ok' THEN $4::bigint WHEN 'throttled' THEN 0 ELSE input_tokens END,
  output_tokens = CASE $3::text WHEN 'ok' THEN $5::bigint ELSE 0 END,
  granted_ms = CASE WHEN $3::text = 'ok' AND $6::bigint >= 0
    THEN greatest(granted_ms, (extract(epoch FROM clock_timestamp()) * 1000)::bigint - $6::bigint) - $7::bigint
    ELSE granted_ms END,
  lease_until_ms = NULL
WHERE model = $1 AND id = $2`;

/** Stores the adapted state, under the row lock of {@link LOCK_MODEL}: $1 model, $2 factor, $3 ceiling, $4 epoch. */
export const SET_ADAPTIVE = 'UPDATE baton_model_quota SET factor = $2, ceiling = $3, epoch = $4 WHERE model = $1';
