import type { StageError } from '@baton/core';
import { isStageError } from '@baton/core';
import { expect } from 'vitest';

/** The StageError a call rejects with; a resolution, or a rejection that is not a StageError, fails the test. */
export async function stageErrorOf(p: Promise<unknown>): Promise<StageError> {
  const e = await p.then(
    () => 'resolved',
    (err: unknown) => err,
  );
  expect(isStageError(e), String(e)).toBe(true);
  return e as StageError;
}
