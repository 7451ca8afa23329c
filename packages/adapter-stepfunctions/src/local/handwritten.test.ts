import type { AnyPipeline } from '@baton/core';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileToAsl } from '../compile/compile.js';
import type { AslDefinition } from '../compile/types.js';
import { validateAsl } from '../compile/validate.js';
import { stageInputOf, stageResultOf, type StageEvent } from '../lambda/event.js';
import { runAslLocally } from './run-asl.js';

// the baseline of bench/stepfunctions.ts: the reference report as a senior engineer would write it
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const handwritten = JSON.parse(readFileSync(join(root, 'bench/stepfunctions-handwritten.asl.json'), 'utf8')) as AslDefinition;
const exampleDist = join(root, 'examples/report-generation/dist/index.js');

type Stub = (input: unknown) => unknown;

/** Stages answering with their full output shapes; in `repairs`, every 4th section fails validation once. */
function stubs(n: number, scenario: 'happy' | 'repairs'): Record<string, Stub> {
  const repair: Stub = () => ({ valid: true, sectionId: 's', outputKey: 'k', round: 1, errors: [], promptSha256: 'h', modelId: 'm' });
  return {
    'ingest-file': () => ({ docId: 'x', name: 'x.pdf', title: 'X', format: 'pdf', key: 'docs/x.json', paragraphs: 3, words: 120, contentHash: 'h' }),
    plan: () => ({
      reportTitle: 'T',
      template: 't',
      templateVersion: 1,
      sources: [],
      sectionIndex: [],
      rejectedSources: [],
      sections: Array.from({ length: n }, (_, index) => ({ sectionId: `s${index}`, index })),
    }),
    generate: () => ({ sectionId: 's', outputKey: 'k', promptSha256: 'h', modelId: 'm' }),
    validate: (input) => {
      const index = (input as { task: { index: number } }).task.index;
      if (scenario === 'repairs' && index % 4 === 0) {
        const e = new Error(
          JSON.stringify({
            errorType: 'ValidationFailed',
            errorMessage: JSON.stringify({ code: 'ValidationFailed', message: 'no citation', retryable: false }),
            trace: [],
          }),
        );
        e.name = 'ValidationFailed';
        throw e;
      }
      return { valid: true, sectionId: `s${index}`, outputKey: 'k', round: 0 };
    },
    repair,
    'repair@2': repair,
    'repair-2': repair,
    flag: () => ({ sectionId: 's', status: 'needs-human-review', reason: 'r' }),
    'open-review': () => ({ round: 0, pending: ['s0'], decided: {}, sendBack: [], rounds: [], done: false }),
    'apply-review': () => ({ round: 1, pending: [], decided: {}, sendBack: [], rounds: [], done: true }),
    assemble: () => ({ docxKey: 'd', markdownKey: 'm', htmlKey: 'h', pdfKey: 'p', sections: { total: n, ok: n, failed: 0, held: 0, repaired: 0 } }),
    'check-outcome': () => ({ total: n, generated: n, missing: 0, minimum: 1 }),
    notify: () => ({ delivered: 'file' }),
  };
}

/** Runs a lambda:invoke machine with the stubs answering as Baton's Lambda handler does, wrapped in \{ Payload, StatusCode \}. */
async function run(definition: AslDefinition, n: number, scenario: 'happy' | 'repairs') {
  const handlers: Record<string, Stub> = { review: () => ({ approved: true, reviewer: 'r', comment: null }) };
  for (const [state, stub] of Object.entries(stubs(n, scenario))) {
    handlers[state] = (params) => {
      const event = (params as { Payload: StageEvent }).Payload;
      return { ExecutedVersion: '$LATEST', Payload: stageResultOf(event, stub(stageInputOf(event))), StatusCode: 200 };
    };
  }
  // reviewerId: the example's schema defaults it to null; a started run carries it (the gate reads it with reviewerPath)
  const input = {
    reportTitle: 'T',
    template: 't',
    sources: [{ key: 'a' }, { key: 'b' }, { key: 'c' }],
    maxSourceBytes: 1e7,
    notify: { kind: 'file' },
    reviewerId: null,
    minGeneratedSections: 1,
    minGeneratedShare: 0,
  };
  const result = await runAslLocally(definition, input, { handlers });
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
