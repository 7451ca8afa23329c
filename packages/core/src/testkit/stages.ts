import { z } from 'zod';
import { StageError } from '../errors.js';
import { sha256Hex } from '../ports/blob-store.js';
import { defineStage, type StageContext } from '../stage.js';
import { hasProbeFlag, recordProbe } from './probe.js';
import { kitConsumeAll } from './stages-limits.js';
import { kitDraft, kitReviewRound } from './stages-review.js';

const Probe = { probe: z.string(), key: z.string().default('') };

async function observed<T>(stage: string, input: { probe: string; key: string }, ctx: StageContext, body: () => Promise<T>): Promise<T> {
  const key = input.key || ctx.stepPath;
  recordProbe(input.probe, { event: 'start', stage, key, attempt: ctx.attempt });
  try {
    return await body();
  } finally {
    recordProbe(input.probe, { event: 'end', stage, key, attempt: ctx.attempt });
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      },
      { once: true },
    );
  });
}

/** Adds one to `value` after `delayMs`. */
export const kitStep = defineStage({
  name: 'kit-step',
  version: 1,
  input: z.object({ ...Probe, value: z.number(), delayMs: z.number().default(0), seen: z.unknown().optional() }),
  output: z.object({ value: z.number(), seen: z.unknown().optional() }),
  async run(input, ctx) {
    return observed('kit-step', input, ctx, async () => {
      if (input.delayMs) await pause(input.delayMs, ctx.signal);
      return { value: input.value + 1, seen: input.seen };
    });
  },
});

/** Fails with `code` on its first `failTimes` attempts, then succeeds. */
export const kitFlaky = defineStage({
  name: 'kit-flaky',
  version: 1,
  input: z.object({ ...Probe, failTimes: z.number(), code: z.string(), details: z.unknown().optional() }),
  output: z.object({ attempts: z.number() }),
  throws: ['ThrottlingException', 'SafetyCheckFailed'],
  async run(input, ctx) {
    return observed('kit-flaky', input, ctx, async () => {
      if (ctx.attempt <= input.failTimes) {
        throw new StageError(input.code, `${input.code} on attempt ${ctx.attempt}`, { details: input.details ?? { attempt: ctx.attempt } });
      }
      return { attempts: ctx.attempt };
    });
  },
});

/** Throws ValidationFailed with zod-like issues unless the input is marked repaired. */
export const kitValidate = defineStage({
  name: 'kit-validate',
  version: 1,
  input: z.object({ ...Probe, text: z.string() }),
  output: z.object({ valid: z.literal(true) }),
  throws: ['ValidationFailed'],
  async run(input, ctx) {
    return observed('kit-validate', input, ctx, async () => {
      if (!input.text.includes('[1]')) {
        throw new StageError('ValidationFailed', 'section has no citation', {
          details: { issues: [{ path: ['text'], message: 'must cite a source as [n]' }] },
        });
      }
      return { valid: true as const };
    });
  },
});

/** Receives a caught error and reports what it received. */
export const kitHandler = defineStage({
  name: 'kit-handler',
  version: 1,
  input: z.object({ ...Probe, error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean(), details: z.unknown().optional() }) }),
  output: z.object({ handled: z.string(), message: z.string(), details: z.unknown().optional() }),
  async run(input, ctx) {
    return observed('kit-handler', input, ctx, async () => {
      recordProbe(input.probe, { event: 'received', stage: 'kit-handler', key: input.key || ctx.stepPath, attempt: ctx.attempt, data: input.error });
      return { handled: input.error.code, message: input.error.message, details: input.error.details };
    });
  },
});

/**
 * A map item: doubles `value`; fails (non-retryable) with `failCode` for `failIndexes` until the
 * probe flag `fixed` is set.
 */
export const kitItem = defineStage({
  name: 'kit-item',
  version: 1,
  input: z.object({
    ...Probe,
    index: z.number(),
    value: z.number(),
    delayMs: z.number().default(0),
    failIndexes: z.array(z.number()).default([]),
    failCode: z.string().default('ItemBroken'),
  }),
  output: z.object({ index: z.number(), value: z.number() }),
  throws: ['ItemBroken'],
  async run(input, ctx) {
    return observed('kit-item', { ...input, key: `item-${input.index}` }, ctx, async () => {
      if (input.delayMs) await pause(input.delayMs, ctx.signal);
      if (input.failIndexes.includes(input.index) && !hasProbeFlag(input.probe, 'fixed')) {
        throw new StageError(input.failCode, `item ${input.index} is broken`, { retryable: false, details: { index: input.index } });
      }
      return { index: input.index, value: input.value * 2 };
    });
  },
});

/** Produces about `bytes` bytes of text. */
export const kitBig = defineStage({
  name: 'kit-big',
  version: 1,
  input: z.object({ ...Probe, bytes: z.number() }),
  output: z.object({ text: z.string(), sha256: z.string() }),
  async run(input, ctx) {
    return observed('kit-big', input, ctx, async () => {
      const text = 'x'.repeat(input.bytes);
      return { text, sha256: sha256Hex(text) };
    });
  },
});

/** Checks the text it received against the hash its producer reported. */
export const kitConsume = defineStage({
  name: 'kit-consume',
  version: 1,
  input: z.object({ ...Probe, text: z.string(), sha256: z.string() }),
  output: z.object({ bytes: z.number(), intact: z.boolean() }),
  async run(input, ctx) {
    return observed('kit-consume', input, ctx, async () => ({ bytes: input.text.length, intact: sha256Hex(input.text) === input.sha256 }));
  },
});

/** Sleeps far longer than its timeout. */
export const kitSlow = defineStage({
  name: 'kit-slow',
  version: 1,
  input: z.object({ ...Probe }),
  output: z.object({ done: z.boolean() }),
  timeoutMs: 1000,
  async run(input, ctx) {
    return observed('kit-slow', input, ctx, async () => {
      await pause(30_000, ctx.signal);
      return { done: true };
    });
  },
});

/** Writes a blob at a deterministic key, then throttles on its first attempt. */
export const kitWriter = defineStage({
  name: 'kit-writer',
  version: 1,
  input: z.object({ ...Probe, runKey: z.string() }),
  output: z.object({ key: z.string() }),
  async run(input, ctx) {
    return observed('kit-writer', input, ctx, async () => {
      const key = `kit/${input.runKey}/section.txt`;
      const put = await ctx.blobs.put(key, `content of ${input.runKey}`);
      if (put.written) recordProbe(input.probe, { event: 'blob-write', stage: 'kit-writer', key, attempt: ctx.attempt });
      if (ctx.attempt === 1) throw new StageError('ThrottlingException', 'throttled after writing');
      return { key };
    });
  },
});

/** Every stage of the conformance kit, for workers that must register them. */
export const conformanceStages = [
  kitStep,
  kitFlaky,
  kitValidate,
  kitHandler,
  kitItem,
  kitBig,
  kitConsume,
  kitSlow,
  kitWriter,
  kitDraft,
  kitReviewRound,
  kitConsumeAll,
];
