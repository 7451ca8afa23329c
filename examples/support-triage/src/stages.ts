import { StageError, defineStage } from '@baton/core';
import { z } from 'zod';

/** A support ticket. */
export const Ticket = z.object({
  id: z.string().regex(/^[\w-]+$/),
  subject: z.string().min(1),
  body: z.string().min(1),
  customerTier: z.enum(['free', 'pro', 'enterprise']).default('free'),
});

/** The classification of a ticket. */
export const Classification = z.object({
  category: z.enum(['outage', 'billing', 'bug', 'question']),
  urgency: z.enum(['high', 'normal']),
  reasons: z.array(z.string()),
});

const RULES: { category: z.output<typeof Classification>['category']; words: string[] }[] = [
  { category: 'outage', words: ['down', 'outage', 'cannot log in', '503', 'unreachable'] },
  { category: 'billing', words: ['invoice', 'charged', 'refund', 'billing'] },
  { category: 'bug', words: ['error', 'crash', 'broken', 'exception'] },
];

/** Classifies a ticket by keyword rules (deterministic; swap in a model-backed stage in production). */
export const classify = defineStage({
  name: 'classify-ticket',
  version: 1,
  input: Ticket,
  output: Classification,
  async run(ticket) {
    const text = `${ticket.subject}\n${ticket.body}`.toLowerCase();
    const hit = RULES.find((r) => r.words.some((w) => text.includes(w)));
    const category = hit?.category ?? 'question';
    const reasons = hit ? hit.words.filter((w) => text.includes(w)).map((w) => `mentions "${w}"`) : ['no rule matched'];
    const urgent = category === 'outage' || (ticket.customerTier === 'enterprise' && category !== 'question');
    if (urgent) reasons.push(category === 'outage' ? 'outages are always urgent' : 'enterprise customer');
    return { category, urgency: urgent ? ('high' as const) : ('normal' as const), reasons };
  },
});

/** Drafts a reply from a template per category and stores it at `replies/<ticket>.txt`. */
export const draftReply = defineStage({
  name: 'draft-reply',
  version: 1,
  input: z.object({ ticket: Ticket, classification: Classification }),
  output: z.object({ replyKey: z.string(), words: z.number() }),
  async run({ ticket, classification }, ctx) {
    const opening: Record<string, string> = {
      outage: 'We are aware of the disruption and our on-call engineers are working on it.',
      billing: 'Our billing team will review your account and get back to you within one business day.',
      bug: 'Thank you for the report; we have filed it with our engineers.',
      question: 'Thanks for reaching out.',
    };
    const text = `Hello,\n\n${opening[classification.category]}\n\nRe: ${ticket.subject}\n\nThe Support Team\n`;
    const key = `replies/${ticket.id}.txt`;
    await ctx.blobs.put(key, text);
    return { replyKey: key, words: text.split(/\s+/).filter(Boolean).length };
  },
});

/** Opens an escalation (written to `escalations/<ticket>.json`, idempotent per ticket). */
export const escalate = defineStage({
  name: 'escalate',
  version: 1,
  input: z.object({ ticket: Ticket, classification: Classification }),
  output: z.object({ escalationKey: z.string() }),
  throws: ['InvalidInput'],
  async run({ ticket, classification }, ctx) {
    if (classification.urgency !== 'high') throw new StageError('InvalidInput', `ticket ${ticket.id} is not urgent`);
    const key = `escalations/${ticket.id}.json`;
    await ctx.blobs.put(key, JSON.stringify({ ticket: ticket.id, category: classification.category, reasons: classification.reasons }));
    return { escalationKey: key };
  },
});
