import { serializeError } from '../errors.js';
import { isBlobRef } from '../blob-ref.js';
import { IR_VERSION, type PipelineIR, type StepIR } from '../ir.js';
import { interpret } from './interpret.js';
import type { ApprovalOutcome, ApprovalRequest, Effects, InterpreterEvent, TaskRequest } from './types.js';

// A fake engine for interpreter tests: tasks run by handlers, approvals answered at once.

export type Handler = (input: unknown, req: TaskRequest) => unknown;

export interface Fake {
  effects: Effects;
  calls: TaskRequest[];
  sleeps: { key: string; ms: number }[];
  approvals: ApprovalRequest[];
  events: InterpreterEvent[];
  /** Values stored whole (`effects.store`); a reference's `$blob` is `fake:<index here>`. */
  stored: unknown[];
}

export function fake(
  handlers: Record<string, Handler>,
  options: { approval?: ApprovalOutcome; completed?: Record<string, unknown>; now?: number; journal?: boolean } = {},
): Fake {
  const f: Fake = { calls: [], sleeps: [], approvals: [], events: [], stored: [], effects: undefined as unknown as Effects };
  // with `journal`, completed tasks are remembered (keyed by step path) as an engine journal would
  const done = new Map<string, unknown>(Object.entries(options.completed ?? {}));
  f.effects = {
    async completed(stepPath) {
      return done.has(stepPath) ? { output: done.get(stepPath) } : undefined;
    },
    async runTask(req) {
      f.calls.push(req);
      try {
        const output = await handlers[req.stage]!(req.input, req);
        if (options.journal) done.set(req.stepPath, output);
        return { ok: true, output };
      } catch (e) {
        return { ok: false, error: serializeError(e) };
      }
    },
    async sleep(key, ms) {
      f.sleeps.push({ key, ms });
    },
    async approval(req) {
      f.approvals.push(req);
      return options.approval ?? { decision: 'approved', reviewer: 'alice', comment: 'fine' };
    },
    resolve: async (v) => (isBlobRef(v) && v.$blob.startsWith('fake:') ? f.stored[Number(v.$blob.slice(5))] : v),
    store: async (v) => {
      f.stored.push(v);
      return { $blob: `fake:${f.stored.length - 1}`, bytes: JSON.stringify(v).length, sha256: 'fake' };
    },
    now: () => options.now ?? 0,
    emit: (e) => f.events.push(e),
  };
  return f;
}

export const ir = (steps: StepIR[]): PipelineIR => ({ irVersion: IR_VERSION, name: 'p', version: 1, steps });
export const run = (
  steps: StepIR[],
  input: unknown,
  f: Fake,
  stages: Record<string, { retry?: { errors: string[]; maxAttempts?: number; intervalMs?: number }[] }> = {},
) => interpret(ir(steps), input, f.effects, { runId: 'run-1', stages });
export const inc: Handler = (input) => ({ ...(input as object), n: ((input as { n?: number }).n ?? 0) + 1 });
