import { isBlobRef, loadRef, offloadLarge, parsePath, type BlobStore } from '@baton/core';

/** Where and how {@link keepInline} may move the rest of an output to the blob store. */
export interface InlineOptions {
  blobs: BlobStore;
  /** Blob key prefix (core's claim check uses `claims/<runId>`). */
  prefix: string;
  threshold: number;
}

/**
 * Makes the arrays that a later Map state iterates over (`paths`, relative to the stage output)
 * plain JSON again when the claim check moved them, or an object around them, to the blob store:
 * a Map's `ItemsPath` cannot follow a blob reference, where Baton's interpreter resolves it. Only
 * the references on the way are loaded; what else they held is offloaded again field by field,
 * so the rest of the output stays small. A path that does not exist leaves the output as it is.
 * The array itself must then fit in the 256 KB state (the local engine enforces that limit).
 */
export async function keepInline(output: unknown, paths: readonly string[] | undefined, options: InlineOptions): Promise<unknown> {
  let out = output;
  for (const path of paths ?? []) out = await pin(out, parsePath(path), options);
  return out;
}

async function pin(value: unknown, segments: readonly (string | number)[], options: InlineOptions): Promise<unknown> {
  const loaded = isBlobRef(value);
  const node = loaded ? await loadRef(value, options.blobs) : value;
  if (segments.length === 0) return node;
  const [seg, ...rest] = segments as [string | number, ...(string | number)[]];
  if (node === null || typeof node !== 'object' || !(seg in node)) return value;
  const copy: Record<string | number, unknown> = Array.isArray(node) ? ([...node] as unknown as Record<number, unknown>) : { ...(node as Record<string, unknown>) };
  if (loaded) {
    // the whole object had been stored: keep its structure, move its large fields out again
    for (const [k, v] of Object.entries(copy)) if (k !== String(seg)) copy[k] = await offloadLarge(v, options.blobs, options.prefix, options.threshold);
  }
  copy[seg] = await pin(copy[seg], rest, options);
  return copy;
}

/**
 * Keeps the top-level keys of an output that the claim check replaced whole by one reference
 * (an object of many small fields over the threshold): the Task picks `$.Payload.<key>` for each
 * key, which a reference does not have. The object is loaded back and each field offloaded on its
 * own (large fields become references, small ones stay), so the keys are always there; the object
 * must then fit in the 256 KB state. Anything that is not a whole-output reference is returned as is.
 */
export async function keepKeys(output: unknown, options: InlineOptions): Promise<unknown> {
  if (!isBlobRef(output)) return output;
  const loaded = await loadRef(output, options.blobs);
  if (loaded === null || typeof loaded !== 'object' || Array.isArray(loaded)) return output;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(loaded)) out[k] = await offloadLarge(v, options.blobs, options.prefix, options.threshold);
  return out;
}
