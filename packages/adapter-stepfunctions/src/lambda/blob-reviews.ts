import { type BlobStore } from '@baton/core';
import { getText } from '@baton/core/engine';
import type { ReviewRecord, ReviewStore } from './reviews.js';

/**
 * A development {@link ReviewStore} on a BlobStore: one JSON object per review under
 * `<prefix><execution ARN>/<step path>.json`. It needs no database, so a review gate and the CLI
 * can share reviews through the claim-check bucket while trying things out. **Not atomic**:
 * closing is read-then-write, so two concurrent decisions with one token may both see the review
 * open (Step Functions still accepts the task token only once, so the run resumes once, but both
 * callers are told they won). Production deployments use the registry's `createRegistryReviewStore`
 * (one conditional UPDATE).
 *
 * @example
 * ```ts
 * const store = createBlobReviewStore(createMemoryBlobStore());
 * const engine = createStepFunctionsLocalEngine({ pipelines: [report], reviews: store });
 * ```
 */
export function createBlobReviewStore(blobs: BlobStore, prefix = 'reviews/'): ReviewStore {
  const dir = (arn: string): string => `${prefix}${encodeURIComponent(arn)}/`;
  const key = (arn: string, stepPath: string): string => `${dir(arn)}${encodeURIComponent(stepPath)}.json`;
  const read = async (k: string): Promise<ReviewRecord> => JSON.parse(await getText(blobs, k)) as ReviewRecord;
  const list = async (arn: string): Promise<ReviewRecord[]> => Promise.all((await blobs.list(dir(arn))).map(read));
  return {
    async put(review) {
      await blobs.put(key(review.executionArn, review.stepPath), JSON.stringify(review));
    },
    list,
    async open(arn, gate) {
      return (await list(arn)).filter((r) => r.gate === gate && r.status === 'open');
    },
    async close(arn, stepPath, decision) {
      const k = key(arn, stepPath);
      if (!(await blobs.has(k))) return false;
      const r = await read(k);
      if (r.status !== 'open') return false;
      const { status, at: decidedAt, reviewer: decidedBy, comment, sections: verdicts } = decision;
      const decided = {
        ...(decidedBy === undefined ? {} : { decidedBy }),
        ...(comment === undefined ? {} : { comment }),
        ...(verdicts === undefined ? {} : { verdicts }),
      };
      await blobs.put(k, JSON.stringify({ ...r, status, decidedAt, ...decided }));
      return true;
    },
  };
}
