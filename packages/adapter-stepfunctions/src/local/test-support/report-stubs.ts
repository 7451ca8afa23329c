import type { AslDefinition } from '../../compile/types.js';
import { stageInputOf, stageResultOf, type StageEvent } from '../../lambda/event.js';
import { runAslLocally } from '../run-asl.js';

/** A stage Lambda stub: the stage's selected input in, its output out (or a throw, as the handler throws). */
export type Stub = (input: unknown) => unknown;

/**
 * The reference report's stages answering with their full output shapes, by state name (the
 * compiled machine's and the hand-written one's, bench/stepfunctions-handwritten.asl.json); in
 * `repairs`, every 4th section fails validation once. Shared by the hand-written comparison test
 * and bench/stepfunctions.ts, so both run the same stages.
 */
export function reportStubs(n: number, scenario: 'happy' | 'repairs'): Record<string, Stub> {
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
        // what Step Functions reports for a Baton Lambda that threw ValidationFailed
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

/** The run input of the stubbed report: `sources` sources, file notice; reviewerId null (the gate reads it with reviewerPath). */
export function reportStubInput(sources = 3): Record<string, unknown> {
  return {
    reportTitle: 'T',
    template: 't',
    sources: Array.from({ length: sources }, (_, i) => ({ key: `src/${i}.pdf` })),
    maxSourceBytes: 1e7,
    notify: { kind: 'file' },
    reviewerId: null,
    minGeneratedSections: 1,
    minGeneratedShare: 0,
  };
}

/**
 * Runs a machine on aws-local-stepfunctions with the stubs bound by state name as Baton's Lambda
 * handler answers: `lambda:invoke` results wrapped in \{ Payload, StatusCode \} (`invoke`), plain
 * otherwise (a function-ARN Resource); the review gate approves. `onEvent` sees each stage event.
 */
export async function runReportStubbed(
  definition: AslDefinition,
  n: number,
  scenario: 'happy' | 'repairs',
  options: { invoke?: boolean; sources?: number; onEvent?: (event: StageEvent) => void } = {},
): ReturnType<typeof runAslLocally> {
  const invoke = options.invoke ?? true;
  const handlers: Record<string, Stub> = { review: () => ({ approved: true, reviewer: 'r', comment: null }) };
  for (const [state, stub] of Object.entries(reportStubs(n, scenario))) {
    handlers[state] = (params) => {
      const event = (invoke ? (params as { Payload: unknown }).Payload : params) as StageEvent;
      options.onEvent?.(event);
      const result = stageResultOf(event, stub(stageInputOf(event)));
      return invoke ? { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 } : result;
    };
  }
  return runAslLocally(definition, reportStubInput(options.sources), { handlers });
}
