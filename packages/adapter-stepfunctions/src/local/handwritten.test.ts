import type { AnyPipeline } from '@baton/core';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileToAsl } from '../compile/compile.js';
import type { AslDefinition } from '../compile/types.js';
import { validateAsl } from '../compile/validate.js';
import { runReportStubbed } from './test-support/report-stubs.js';

// the baseline of bench/stepfunctions.ts: the reference report as a senior engineer would write it
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const handwritten = JSON.parse(readFileSync(join(root, 'bench/stepfunctions-handwritten.asl.json'), 'utf8')) as AslDefinition;
const exampleDist = join(root, 'examples/report-generation/dist/index.js');

/** The machine run with the report's stub stages; it must succeed. */
async function run(definition: AslDefinition, n: number, scenario: 'happy' | 'repairs') {
  const result = await runReportStubbed(definition, n, scenario);
  expect(result.status, JSON.stringify(result.error)).toBe('succeeded');
  return result;
}

describe('the reference report against the hand-written machine (bench/stepfunctions-handwritten.asl.json)', { timeout: 120_000 }, () => {
  it.each([
    [8, 'happy'],
    [8, 'repairs'],
    [40, 'happy'],
    [40, 'repairs'],
  ] as const)('N = %i, %s: the default compile costs no more state transitions, and ends with the same state', async (n, scenario) => {
    expect(existsSync(exampleDist), 'build examples/report-generation first').toBe(true);
    const { reportPipeline } = (await import(pathToFileURL(exampleDist).href)) as { reportPipeline: AnyPipeline };
    expect(validateAsl(handwritten).errorsText).toBe('');
    const compiled = compileToAsl(reportPipeline, { expectedItems: { sections: n, ingest: 3 } });
    expect(compiled.lambdaIntegration).toBe('invoke');
    const [byHand, byBaton] = [await run(handwritten, n, scenario), await run(compiled.definition, n, scenario)];
    expect(byBaton.transitions).toBeLessThanOrEqual(byHand.transitions);
    expect(byBaton.output).toEqual(byHand.output);
  });
});
