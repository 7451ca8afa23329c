import { getText, type BlobStore } from '@baton/core';
import type { ReviewRecord, ReviewStore } from './reviews.js';

/**
 * A {@link ReviewStore} on a BlobStore (S3 in production): one JSON object per review under
 * `<prefix><execution name>/<step path>.json`. It needs no database, so a deployed review gate and
 * the CLI share reviews through the claim-check bucket. Closing is read-then-write, not atomic;
 * single use still holds end to end because Step Functions accepts a task token only once.
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
    async close(arn, stepPath, status) {
      const k = key(arn, stepPath);
      if (!(await blobs.has(k))) return false;
      const r = await read(k);
      if (r.status !== 'open') return false;
      await blobs.put(k, JSON.stringify({ ...r, status }));
      return true;
    },
  };
}
