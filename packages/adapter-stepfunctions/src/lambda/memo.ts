import { type AnyStage, type BlobStore } from '@baton/core';
import { sha256Hex } from '@baton/core/engine';

/** JSON with object keys sorted, so two inputs compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Where a run's step memo lives in the blob store (one object per step that succeeded). */
export const MEMO_PREFIX = 'baton/memo/';

/**
 * The blob key of a step's memo: the run, then a digest of the stage's name and version, the step
 * path and the stage input. A step whose stage version or input changed has another key, so a
 * replay runs it again.
 */
export function memoKey(runId: string, stage: Pick<AnyStage, 'name' | 'version'>, stepPath: string, input: unknown): string {
  return `${MEMO_PREFIX}${runId}/${sha256Hex(`${stage.name}@${stage.version}\n${stepPath}\n${canonicalJson(input)}`)}.json`;
}

/** The recorded output of a step, or `undefined` when none was recorded (or it cannot be read back). */
export async function readMemo(blobs: BlobStore, key: string): Promise<{ output: unknown } | undefined> {
  if (!(await blobs.has(key))) return undefined;
  const record = JSON.parse(new TextDecoder().decode(await blobs.get(key))) as { output?: unknown };
  return 'output' in record ? { output: record.output } : undefined;
}

/** Records a step's output (after the claim check: blob references, never the large values). */
export async function writeMemo(blobs: BlobStore, key: string, output: unknown): Promise<void> {
  await blobs.put(key, JSON.stringify({ output }));
}
