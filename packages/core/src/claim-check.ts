import { StageError } from './errors.js';
import { sha256Hex, type BlobStore } from './ports/blob-store.js';

import { isBlobRef, type BlobRef } from './blob-ref.js';
import { parsePath, type Segment } from './paths.js';

/** Default size above which a value is moved to the blob store: 32 KB. */
export const DEFAULT_CLAIM_CHECK_THRESHOLD = 32 * 1024;

/** Smallest value worth replacing by a reference. */
const MIN_OFFLOAD_BYTES = 512;

/** Byte length of a value's JSON form. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8');
}

/**
 * Keeps the JSON form of `value` at most `threshold` bytes by moving its largest parts to the
 * blob store and leaving {@link BlobRef}s in their place. The structure around them is kept, so
 * paths such as `$.plan.sections` still resolve. Keys derive from the content hash under
 * `prefix`, so a repeated offload writes nothing new.
 */
export async function offloadLarge(
  value: unknown,
  blobs: BlobStore,
  prefix: string,
  threshold = DEFAULT_CLAIM_CHECK_THRESHOLD,
  options: OffloadOptions = {},
): Promise<unknown> {
  return offload(value, blobs, prefix, threshold, (options.keep ?? []).map(parsePath), options.keepKeys ?? false);
}

/** What {@link offloadLarge} must leave in place. */
export interface OffloadOptions {
  /**
   * Paths (`$.sections`, relative to the value) whose values stay plain JSON, and so do the objects
   * around them (their other fields may still move out): for readers that cannot follow a
   * reference, such as a Step Functions Map's `ItemsPath`.
   */
  keep?: readonly string[];
  /** An object is never replaced whole by one reference: its keys stay, its large fields move out. */
  keepKeys?: boolean;
}

async function offload(value: unknown, blobs: BlobStore, prefix: string, threshold: number, keep: Segment[][], keepKeys: boolean): Promise<unknown> {
  if (keep.some((p) => p.length === 0)) return value;
  if (jsonBytes(value) <= threshold) return value;
  if (value !== null && typeof value === 'object' && !isBlobRef(value)) {
    const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as object) };
    const fields = copy as Record<string, unknown>;
    const pinned = new Set(keep.map((p) => String(p[0])).filter((k) => k in fields));
    for (const k of pinned)
      fields[k] = await offload(
        fields[k],
        blobs,
        prefix,
        threshold,
        keep.filter((p) => String(p[0]) === k).map((p) => p.slice(1)),
        false,
      );
    const entries = Object.entries(copy)
      .filter(([k]) => !pinned.has(k))
      .map(([k, v]) => ({ k, v, size: jsonBytes(v) }));
    entries.sort((a, b) => b.size - a.size);
    let total = jsonBytes(copy);
    for (const e of entries) {
      if (total <= threshold || e.size < MIN_OFFLOAD_BYTES) break;
      const ref = await storeValue(e.v, blobs, prefix);
      fields[e.k] = ref;
      total += jsonBytes(ref) - e.size;
    }
    if (total <= threshold || pinned.size > 0 || keepKeys) return copy;
  }
  return storeValue(value, blobs, prefix);
}

/** Stores `value` whole as one reference under `prefix`, keyed by its content hash. */
export async function storeValue(value: unknown, blobs: BlobStore, prefix: string): Promise<BlobRef> {
  const text = JSON.stringify(value);
  const sha256 = sha256Hex(text);
  const key = `${prefix}/${sha256}.json`;
  const put = await blobs.put(key, text);
  return { $blob: key, bytes: put.bytes, sha256 };
}

/** Reads one reference back, verifying its sha256. */
export async function loadRef(ref: BlobRef, blobs: BlobStore): Promise<unknown> {
  const data = await blobs.get(ref.$blob);
  const sha = sha256Hex(data);
  if (sha !== ref.sha256) {
    throw new StageError('StageFailed', `claim check ${ref.$blob} is corrupt: sha256 ${sha} != ${ref.sha256}`, {
      retryable: false,
      details: { key: ref.$blob, expected: ref.sha256, actual: sha },
    });
  }
  return JSON.parse(Buffer.from(data).toString('utf8')) as unknown;
}

/** Replaces every {@link BlobRef} inside `value` by the value it stands for (recursively). */
export async function resolveRefs(value: unknown, blobs: BlobStore): Promise<unknown> {
  // most values hold no reference: a plain copy, without a promise per nested value
  if (!containsRef(value)) return copyPlain(value);
  if (isBlobRef(value)) return resolveRefs(await loadRef(value, blobs), blobs);
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveRefs(v, blobs)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await resolveRefs(v, blobs);
    return out;
  }
  return value;
}

/** A copy of plain JSON-like data (arrays and objects copied, everything else as is). */
function copyPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyPlain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = copyPlain((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** Whether `value` contains a {@link BlobRef} anywhere. */
export function containsRef(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (isBlobRef(value)) return true;
  if (Array.isArray(value)) {
    for (const v of value) if (containsRef(v)) return true;
    return false;
  }
  for (const k of Object.keys(value)) if (containsRef((value as Record<string, unknown>)[k])) return true;
  return false;
}
