import { resolveRefs } from './claim-check.js';
import type { RunOutcome } from './interpreter/types.js';
import type { BlobStore } from './ports/blob-store.js';

/**
 * The outcome `Engine.result()` returns: a succeeded run's output with every claim-check
 * reference replaced by the value it stands for, read from the engine's blob store.
 *
 * Engines keep references in their state (a run's output may be megabytes), and where a value is
 * offloaded depends on the engine: Step Functions keeps a Map's items inline, the others do not,
 * and reference keys carry the run id. Resolving them here makes `result()` the same on every
 * engine, and equal for two runs that produced equal data. `status().output` and the
 * `run-finished` event keep the references.
 *
 * @example
 * ```ts
 * const blobs = createMemoryBlobStore();
 * const ref = (await offloadLarge({ text: 'x'.repeat(40_000) }, blobs, 'claims/r1')) as BlobRef;
 * const outcome = await resolveOutcome({ status: 'succeeded', output: { report: ref } }, blobs);
 * // outcome.output: { report: { text: 'xxx…' } }
 * ```
 */
export async function resolveOutcome(outcome: RunOutcome, blobs: BlobStore): Promise<RunOutcome> {
  if (outcome.status !== 'succeeded') return outcome;
  return { ...outcome, output: await resolveRefs(outcome.output, blobs) };
}
