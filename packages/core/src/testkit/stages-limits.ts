import { z } from 'zod';
import { sha256Hex } from '../ports/blob-store.js';
import { defineStage } from '../stage.js';
import { recordProbe } from './probe.js';

const Result = z.object({ status: z.string(), output: z.object({ text: z.string(), sha256: z.string() }).optional() });

/** Checks every item of a map result (`kit-big` outputs) against the hash its producer reported. */
export const kitConsumeAll = defineStage({
  name: 'kit-consume-all',
  version: 1,
  input: z.object({ probe: z.string(), results: z.array(Result) }),
  output: z.object({ items: z.number(), bytes: z.number(), intact: z.boolean() }),
  async run(input, ctx) {
    recordProbe(input.probe, { event: 'start', stage: 'kit-consume-all', key: ctx.stepPath, attempt: ctx.attempt });
    const texts = input.results.map((r) => r.output);
    const intact = texts.every((t) => t !== undefined && sha256Hex(t.text) === t.sha256);
    return { items: texts.length, bytes: texts.reduce((n, t) => n + (t?.text.length ?? 0), 0), intact };
  },
});
