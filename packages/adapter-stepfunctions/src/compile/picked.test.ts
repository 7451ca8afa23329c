import { StageError, createLocalEngine, createMemoryBlobStore, defineStage, definePipeline, isBlobRef, type AnyPipeline } from '@baton/core';
import { resolveRefs } from '@baton/core/engine';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStageHandler } from '../lambda/handler.js';
import { createStepFunctionsLocalEngine } from '../local/engine.js';
import { compileToAsl } from './compile.js';
import { outputFieldsOf } from './output-fields.js';
import type { AslDefinition, AslState } from './types.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const handwritten = JSON.parse(readFileSync(join(root, 'bench/stepfunctions-handwritten.asl.json'), 'utf8')) as AslDefinition;
const exampleDist = join(root, 'examples/report-generation/dist/index.js');
const items = (s: AslState) => (s.ItemProcessor as { States: Record<string, AslState> }).States;
const payloadOf = (s: AslState) => (s.Parameters as { Payload: Record<string, unknown> }).Payload;

describe('outputFieldsOf: which output schemas a ResultSelector can rebuild field by field', () => {
  it('an object whose keys are all present after parsing (defaults and nulls included)', () => {
    expect(
      outputFieldsOf(z.object({ a: z.string(), b: z.number().nullable(), c: z.string().default('x'), d: z.array(z.string()), e: z.literal(true) })),
    ).toEqual({ keys: ['a', 'b', 'c', 'd', 'e'] });
    expect(outputFieldsOf(z.strictObject({ a: z.string() }))).toEqual({ keys: ['a'] });
  });
  it('anything whose keys may be missing or are not known', () => {
    const reasons = [
      z.object({ a: z.string().optional() }),
      z.object({ a: z.unknown() }),
      z.object({ a: z.union([z.string(), z.undefined()]) }),
      z.object({ a: z.string().transform((s) => s.trim()) }),
      z.looseObject({ a: z.string() }),
      z.record(z.string(), z.string()),
      z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]),
      z.array(z.string()),
      z.object({}),
      z.object({ 'a-b': z.string() }),
    ].map((s) => outputFieldsOf(s));
    for (const r of reasons) expect(r).toEqual({ reason: expect.any(String) });
  });
});

describe('the reference report picks its stage outputs as the hand-written machine does', () => {
  it('plan, generate, validate, repair, assemble and notify send their selected input only and select their result fields; flag falls back with a warning', async () => {
    expect(existsSync(exampleDist), 'build examples/report-generation first').toBe(true);
    const { reportPipeline } = (await import(pathToFileURL(exampleDist).href)) as { reportPipeline: AnyPipeline };
    const compiled = compileToAsl(reportPipeline, { expectedItems: { sections: 8, ingest: 3 } });
    const top = compiled.definition.States;
    const item = items(top.sections!);
    const byHand = { ...handwritten.States, ...items(handwritten.States.sections!) };
    // hand-written items are { status, output }; compiled ones { path, result: { status, output } }
    const rooted = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('"$.output', '"$.result.output')) as unknown;
    const pairs: [string, AslState, string][] = [
      ['plan', top.plan!, 'plan'],
      ['assemble', top.assemble!, 'assemble'],
      ['notify', top.notify!, 'notify'],
      ['generate', item.generate!, 'generate'],
      ['validate', item.validate!, 'validate'],
      ['repair', item.repair!, 'repair'],
      ['repair@2', item['repair@2']!, 'repair-2'],
    ];
    for (const [name, state, hand] of pairs) {
      const payload = payloadOf(state);
      expect(payload, name).not.toHaveProperty('state.$');
      expect(payload, name).not.toHaveProperty('select');
      expect(payload.input, name).toEqual(rooted(payloadOf(byHand[hand]!).input));
      expect(payload.keepKeys, name).toBe(true);
      expect(state.ResultSelector, name).toEqual(byHand[hand]!.ResultSelector);
      expect(state.ResultPath, name).toEqual(rooted(byHand[hand]!.ResultPath));
      expect(state, name).not.toHaveProperty('OutputPath', '$.Payload');
    }
    // the two tasks that end a section keep the item result, as a hand-written End on { status, output } does
    expect(item.validate).toMatchObject({ OutputPath: '$.result', End: true });
    expect(item['repair@2']).toMatchObject({ OutputPath: '$.result', End: true });
    // repair reads validate's caught ValidationFailed and overwrites it: its Lambda decodes it in its input
    expect(payloadOf(item.repair!).errors).toEqual(['$.check']);
    expect(item.validate!.Catch).toContainEqual({ ErrorEquals: ['ValidationFailed'], ResultPath: '$.result.output.check', Next: 'repair' });
    // flag reads the caught SafetyCheckFailed at $.safety, which stays in the section's state: state form
    expect(payloadOf(item.flag!)).toMatchObject({ 'state.$': '$', errors: ['$.result.output.safety'] });
    // so do the other flag tasks (each reads its caught safety error), and merge, whose output is an array
    const flags = [
      'flag',
      'repair-loop@0/repair-flag',
      'repair-loop@1/repair-flag@2',
      'rewrite-flag',
      'rewrite-repair-loop@0/rewrite-repair-flag',
      'rewrite-repair-loop@1/rewrite-repair-flag@2',
    ];
    const stateForm = compiled.issues.filter((i) => /sends its whole state/.test(i.message));
    expect(stateForm).toHaveLength(flags.length + 1);
    for (const step of flags) {
      expect(stateForm).toContainEqual({
        severity: 'warning',
        step,
        message: expect.stringMatching(/caught error at \$\.result\.output\.safety .* would stay undecoded/),
      });
    }
    expect(stateForm).toContainEqual({
      severity: 'warning',
      step: 'review-rounds@*/merge',
      message: expect.stringMatching(/output of stage "merge-revisions" cannot be picked field by field: its output schema is not a plain object \(array\)/),
    });
    expect(
      Object.entries(compiled.tasks)
        .filter(([, t]) => t.receives === 'state')
        .map(([name]) => name)
        .sort(),
    ).toEqual(['flag', 'merge', 'repair-flag', 'repair-flag@2', 'rewrite-flag', 'rewrite-repair-flag', 'rewrite-repair-flag@2'].sort());
    // repair catches SafetyCheckFailed: the ValidationFailed it decodes in its input is still raw
    // in the state then, so that catch path parses it before the flag task (failure paths only)
    expect(item.repair!.Catch).toContainEqual({
      ErrorEquals: ['SafetyCheckFailed'],
      ResultPath: '$.result.output.safety',
      Next: 'repair.catch0.input.envelope',
    });
    expect(item['repair.catch0.input.error']).toMatchObject({ Type: 'Pass', Next: 'repair-flag' });
    // ingest-file replaces its item state: the input shape, as before
    expect(payloadOf(items(top.ingest!)['ingest-file']!)).toHaveProperty('input.$');
  });
});

const failing = defineStage({
  name: 'failing',
  version: 1,
  input: z.object({ text: z.string() }),
  output: z.object({ text: z.string() }),
  throws: ['ValidationFailed'],
  async run(input) {
    throw new StageError('ValidationFailed', `"${input.text}" is not valid`, { details: { errors: ['too short'] } });
  },
});
const fixer = defineStage({
  name: 'fixer',
  version: 1,
  input: z.object({
    text: z.string(),
    check: z.object({ code: z.literal('ValidationFailed'), message: z.string(), details: z.object({ errors: z.array(z.string()) }) }),
  }),
  output: z.object({ text: z.string(), fixedFrom: z.string() }),
  async run(input) {
    return { text: `${input.text}!`, fixedFrom: `${input.check.code}: ${input.check.details.errors.join(', ')}` };
  },
});
const WIDE_KEYS = Array.from({ length: 60 }, (_, i) => `k${i}`);
const wide = defineStage({
  name: 'wide',
  version: 1,
  input: z.object({ text: z.string() }),
  output: z.object(Object.fromEntries(WIDE_KEYS.map((k) => [k, z.string()]))),
  async run(input) {
    return Object.fromEntries(WIDE_KEYS.map((k) => [k, `${k}:${input.text}:`.padEnd(100, '.')]));
  },
});
const reader = defineStage({
  name: 'reader',
  version: 1,
  input: z.object({ value: z.string() }),
  output: z.object({ length: z.number() }),
  async run(input) {
    return { length: input.value.length };
  },
});

const repairing = definePipeline({ name: 'picked-repair', version: 1, input: z.object({ text: z.string() }) })
  .task('try', failing, {
    input: { 'text.$': '$.text' },
    resultPath: '$.check',
    catch: [
      {
        errors: ['ValidationFailed'],
        resultPath: '$.check',
        then: (b) => b.task('fix', fixer, { input: { 'text.$': '$.text', 'check.$': '$.check' }, resultPath: '$.check' }),
      },
    ],
  })
  .build();
const widePipeline = definePipeline({ name: 'picked-wide', version: 1, input: z.object({ text: z.string() }) })
  .task('wide', wide, { input: { 'text.$': '$.text' }, resultPath: '$.wide' })
  .task('read', reader, { input: { 'value.$': '$.wide.k7' }, resultPath: '$.read' })
  .build();

describe('picked outputs at run time (stepfunctions-local with the real handler, against the local engine)', { timeout: 60_000 }, () => {
  it('a caught error the task reads and overwrites is decoded in its input by its Lambda: same result as the interpreter', async () => {
    const compiled = compileToAsl(repairing);
    expect(payloadOf(compiled.definition.States.fix!)).toMatchObject({ input: { 'check.$': '$.check' }, errors: ['$.check'], keepKeys: true });
    expect(Object.keys(compiled.definition.States)).toEqual(['fix', 'try']);
    const sfn = createStepFunctionsLocalEngine({ pipelines: [repairing] });
    const local = createLocalEngine({ pipelines: [repairing], dir: mkdtempSync(join(tmpdir(), 'baton-picked-')) });
    const a = await sfn.result((await sfn.start(repairing, { text: 'hi' })).runId);
    const b = await local.result((await local.start(repairing, { text: 'hi' })).runId);
    expect(a).toEqual({ status: 'succeeded', output: { text: 'hi', check: { text: 'hi!', fixedFrom: 'ValidationFailed: too short' } } });
    expect(a).toEqual(b);
    await sfn.close();
    await local.close();
  });

  it('an output the claim check would replace whole keeps its keys, so $.Payload.<key> resolves', async () => {
    const blobs = createMemoryBlobStore();
    const engine = createStepFunctionsLocalEngine({ pipelines: [widePipeline], blobs, claimCheckThreshold: 2048 });
    const outcome = await engine.result((await engine.start(widePipeline, { text: 'x' })).runId);
    expect(outcome.status, JSON.stringify(outcome)).toBe('succeeded');
    const output = (outcome as { output: { wide: Record<string, unknown>; read: unknown } }).output;
    expect(Object.keys(output.wide)).toEqual(WIDE_KEYS);
    expect(output.read).toEqual({ length: 100 });
    await engine.close();
  });

  it('keepKeys in the event: the handler loads a whole-output reference back and offloads field by field', async () => {
    const blobs = createMemoryBlobStore();
    const handler = createStageHandler({ stages: wide, blobs, claimCheckThreshold: 2048 });
    const event = { stage: 'wide', stepPath: 'wide', executionId: 'arn:aws:states:us-east-1:1:execution:picked:run-1', retryCount: 0, input: { text: 'x' } };
    expect(isBlobRef(await handler(event))).toBe(true);
    const kept = (await handler({ ...event, keepKeys: true })) as Record<string, unknown>;
    expect(Object.keys(kept)).toEqual(WIDE_KEYS);
    expect(await resolveRefs(kept, blobs)).toEqual(await wide.run({ text: 'x' }, undefined as never));
  });
});

describe('a caught error overwritten by the task that follows', () => {
  it('needs no decoding when the task does not read it: no Pass states, no errors field', () => {
    const ignoring = definePipeline({ name: 'picked-ignore', version: 1, input: z.object({ text: z.string() }) })
      .task('try', failing, {
        input: { 'text.$': '$.text' },
        resultPath: '$.check',
        catch: [
          {
            errors: ['ValidationFailed'],
            resultPath: '$.check',
            then: (b) => b.task('again', reader, { input: { 'value.$': '$.text' }, resultPath: '$.check' }),
          },
        ],
      })
      .build();
    const s = compileToAsl(ignoring).definition.States;
    expect(Object.keys(s)).toEqual(['again', 'try']);
    expect(s.try!.Catch).toEqual([{ ErrorEquals: ['ValidationFailed'], ResultPath: '$.check', Next: 'again' }]);
    expect(payloadOf(s.again!)).not.toHaveProperty('errors');
    expect(payloadOf(s.again!)).not.toHaveProperty('state.$');
  });
});
