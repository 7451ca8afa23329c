import { describe, expect, it } from 'vitest';
import { FORBIDDEN, sampleNotice as notice } from '../test-support/review-notice.js';
import { reviewMessage, reviewRequested } from './message.js';

describe('review notice content', () => {
  it('carries what a reviewer needs and the link, never the payload, and the token only inside the link', () => {
    const r = reviewRequested(notice, { dashboardUrl: 'https://baton.example.com/', pipeline: 'report' });
    expect(r).toEqual({
      pipeline: 'report',
      runId: 'run-2026-04-01-a1',
      gate: 'medical-review',
      stepPath: 'review',
      reviewer: 'alice@example.com',
      createdAt: '2026-04-01T09:00:00.000Z',
      expiresAt: '2026-04-03T09:00:00.000Z',
      reviewUrl: 'https://baton.example.com/reviews/run-2026-04-01-a1/medical-review?token=tok_S3cr3t%2B%2F%3D',
    });
    const { subject, text } = reviewMessage(r);
    expect(subject).toBe('Review requested: medical-review of report run run-2026-04-01-a1');
    expect(text).toContain('Assigned to:  alice@example.com');
    expect(text).toContain('Expires:      2026-04-03T09:00:00.000Z');
    expect(text).toContain(`\n${r.reviewUrl}\n`);
    const all = JSON.stringify({ r, subject, text });
    for (const f of FORBIDDEN) expect(all).not.toContain(f);
    expect(all.split(encodeURIComponent(notice.token)).length - 1).toBe(2); // the url field and the text
  });

  it('says anyone may decide when no reviewer is assigned, and keeps the subject within SNS limits', () => {
    const { reviewer: _, ...unassigned } = notice;
    const r = reviewRequested({ ...unassigned, gate: `gaté-${'x'.repeat(120)}` }, { dashboardUrl: 'http://127.0.0.1:4680' });
    expect(r.reviewer).toBeNull();
    expect(r).not.toHaveProperty('pipeline');
    const { subject, text } = reviewMessage(r);
    expect(text).toContain('Assigned to:  anyone who may review on the dashboard');
    expect(subject).toHaveLength(100);
    expect(subject).toMatch(/^[\x20-\x7e]+\.\.\.$/);
  });
});
