import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { definePipeline, type Pipeline } from './builder.js';
import type { StepIR } from './ir.js';
import type { DataPath } from './paths.js';
import { defineStage, invokeStage, type InvocationResult, type ReportedInvocation, type Stage, type StageContext } from './stage.js';

const Input = z.object({ text: z.string(), count: z.number().default(1) });
const Output = z.object({ words: z.array(z.string()) });

describe('defineStage', () => {
  it("infers run's input from the zod input schema (after defaults) and checks its return against the output schema", () => {
    const split = defineStage({
      name: 'split',
      version: 1,
      input: Input,
      output: Output,
      async run(input, ctx) {
        expectTypeOf(input).toEqualTypeOf<{ text: string; count: number }>();
        expectTypeOf(ctx).toEqualTypeOf<StageContext>();
        return { words: input.text.split(' ').slice(0, input.count) };
      },
    });
    expectTypeOf(split).toEqualTypeOf<Stage<typeof Input, typeof Output>>();
    expectTypeOf(split.kind).toEqualTypeOf<'baton.stage'>();
    expectTypeOf<ReturnType<typeof split.run>>().toEqualTypeOf<Promise<{ words: string[] }>>();
    expectTypeOf<Parameters<typeof split.run>[0]>().toEqualTypeOf<{ text: string; count: number }>();
  });

  it('rejects a run whose result does not match the output schema', () => {
    defineStage({
      name: 'bad',
      version: 1,
      input: Input,
      output: Output,
      // @ts-expect-error words must be string[]
      async run() {
        return { words: 3 };
      },
    });
  });

  it('rejects reading a field the input schema lacks', () => {
    defineStage({
      name: 'bad2',
      version: 1,
      input: Input,
      output: Output,
      async run(input) {
        // @ts-expect-error no such field
        return { words: [input.missing as string] };
      },
    });
  });
});

describe('definePipeline', () => {
  it("types the pipeline by its input schema's output", () => {
    const stage = defineStage({
      name: 's',
      version: 1,
      input: Input,
      output: Output,
      async run() {
        return { words: [] };
      },
    });
    const p = definePipeline({ name: 'p', version: 1, input: z.object({ text: z.string() }) })
      .task('a', stage)
      .build();
    expectTypeOf(p).toEqualTypeOf<Pipeline<{ text: string }>>();
    expectTypeOf(p.ir.steps).toEqualTypeOf<StepIR[]>();
    const untyped = definePipeline({ name: 'q', version: 1 }).task('a', stage).build();
    expectTypeOf(untyped).toEqualTypeOf<Pipeline<unknown>>();
  });

  it('accepts only $-rooted data paths', () => {
    expectTypeOf<'$.plan.sections'>().toExtend<DataPath>();
    expectTypeOf<'plan.sections'>().not.toExtend<DataPath>();
  });

  it('invokeStage never throws: it resolves to a result union', () => {
    // with `report`, the result also carries the attempt's times and its attempt-finished event
    expectTypeOf(invokeStage).returns.toEqualTypeOf<Promise<ReportedInvocation> | Promise<InvocationResult>>();
  });
});
