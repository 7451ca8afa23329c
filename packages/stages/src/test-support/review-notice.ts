import type { ReviewNotice } from '@baton/core';

/**
 * A review notice for the notifier tests: its payload holds a marker that must never leave the
 * notifier, and its token has characters that URL encoding changes.
 */
export const sampleNotice: ReviewNotice = {
  runId: 'run-2026-04-01-a1',
  gate: 'medical-review',
  stepPath: 'review',
  reviewer: 'alice@example.com',
  payload: { sections: [{ id: 'synopsis', text: 'PAYLOAD-MARKER: the confidential draft text' }] },
  createdAt: '2026-04-01T09:00:00.000Z',
  expiresAt: '2026-04-03T09:00:00.000Z',
  token: 'tok_S3cr3t+/=',
};

/** The payload marker and the raw token: neither may appear in what a notifier sends. */
export const FORBIDDEN = ['PAYLOAD-MARKER', 'tok_S3cr3t+/='] as const;
