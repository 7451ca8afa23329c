import { jsonBytes, sha256Hex } from '@baton/core/engine';

/** Values larger than this are stored as a digest, not inline: the registry is an index, not a blob store. */
export const MAX_INLINE_BYTES = 16 * 1024;

/** The innermost map item index of a step path (`a[1]/b[4]/c` → 4), or null outside maps. */
export function mapIndexOf(stepPath: string): number | null {
  const all = [...stepPath.matchAll(/\[(\d+)\]/g)];
  const last = all.at(-1);
  return last?.[1] === undefined ? null : Number(last[1]);
}

/** A value small enough to keep in a row, or its digest. Claim-check references are small already. */
export function refOf(value: unknown): unknown {
  if (value === undefined) return null;
  const bytes = jsonBytes(value);
  if (bytes <= MAX_INLINE_BYTES) return value;
  return { $omitted: true, bytes, sha256: sha256Hex(JSON.stringify(value)) };
}

/** A JSON column's parameter: JSON text (cast with `::jsonb`), or null. pg would turn a JS array into a Postgres array. */
export function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
