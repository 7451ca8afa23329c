import { createLocalEngine, createMemoryBlobStore } from '@baton/core';
import { getText } from '@baton/core/engine';
import { describe, expect, it } from 'vitest';
import { triagePipeline } from './pipeline.js';

async function triage(ticket: Record<string, unknown>, decide?: 'approve' | 'reject') {
  const blobs = createMemoryBlobStore();
  const engine = createLocalEngine({
    pipelines: [triagePipeline],
    blobs,
    notifier: (n) => {
      if (decide) setTimeout(() => void engine[decide](n.runId, n.gate, { token: n.token, reviewer: 'oncall' }), 0);
    },
  });
  const { runId } = await engine.start('support-triage', { ticket });
  const outcome = await engine.result(runId, { timeoutMs: 10_000 });
  const info = await engine.status(runId);
  await engine.close();
  return { outcome, info, blobs };
}

describe('support triage pipeline (choice + parallel + gate)', () => {
  it('drafts a reply for a normal ticket without escalating', async () => {
    const { outcome, info, blobs } = await triage({ id: 't-1', subject: 'How do I export data?', body: 'Is there a CSV export?' });
    expect(outcome.status).toBe('succeeded');
    const out = (outcome as { output: { classification: { category: string; urgency: string }; reply: { replyKey: string } } }).output;
    expect(out.classification).toMatchObject({ category: 'question', urgency: 'normal' });
    expect(await getText(blobs, out.reply.replyKey)).toContain('Thanks for reaching out.');
    expect(info.attempts.map((a) => a.stepPath).sort()).toEqual(['classify', 'reply']);
    expect(await blobs.list('escalations/')).toEqual([]);
  });

  it('escalates an outage in parallel with the reply and waits for the on-call acknowledgement', async () => {
    const { outcome, info, blobs } = await triage({ id: 't-2', subject: 'Site is down', body: 'We get 503 on every page', customerTier: 'pro' }, 'approve');
    expect(outcome.status).toBe('succeeded');
    const out = (outcome as { output: { urgent: { escalationKey?: string }[]; ack: { approved: boolean; reviewer: string } } }).output;
    expect(out.ack).toMatchObject({ approved: true, reviewer: 'oncall' });
    expect(await blobs.list('escalations/')).toEqual(['escalations/t-2.json']);
    expect(info.attempts.map((a) => a.stepPath).sort()).toEqual(['classify', 'urgent.0/urgent-reply', 'urgent.1/page']);
  });

  it('fails with ApprovalRejected when on-call rejects the escalation', async () => {
    const { outcome } = await triage(
      { id: 't-3', subject: 'Billing error', body: 'We were charged twice, error on invoice', customerTier: 'enterprise' },
      'reject',
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'ApprovalRejected' } });
  });

  it('rejects a ticket without a body as invalid input', async () => {
    const { outcome } = await triage({ id: 't-4', subject: 'x', body: '' });
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'InvalidInput' } });
  });
});
