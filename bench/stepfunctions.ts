/**
 * State transitions per run of the reference report pipeline on Step Functions: Baton's compiled
 * machine against a hand-written machine of the same pipeline (bench/stepfunctions-handwritten.asl.json),
 * for N = 8, 40 and 200 sections. Both machines run on aws-local-stepfunctions with the same stub
 * Lambdas bound by state name; transitions are StateEntered events (STANDARD's billed unit).
 *
 *   npx turbo run build --filter=@baton/adapter-stepfunctions --filter=@baton/example-report
 *   npx tsx bench/stepfunctions.ts
 */
import { compileToAsl, estimateRunCost, runAslLocally, validateAsl, type AslDefinition } from '@baton/adapter-stepfunctions';
import { reportPipeline } from '@baton/example-report';
import { readFileSync } from 'node:fs';

const handwritten = JSON.parse(readFileSync(new URL('./stepfunctions-handwritten.asl.json', import.meta.url), 'utf8')) as AslDefinition;
const SOURCES = 3;

/** Stub Lambdas: every section valid (happy), or every 4th section repaired once (repairs). */
function stubs(n: number, scenario: 'happy' | 'repairs'): Record<string, (input: unknown) => unknown> {
  const validate = (input: unknown): unknown => {
    const idx = ((input as { input: { task: { index: number } } }).input.task.index);
    if (scenario === 'repairs' && idx % 4 === 0) {
      const e = new Error(JSON.stringify({ errorType: 'ValidationFailed', errorMessage: JSON.stringify({ code: 'ValidationFailed', message: 'no citation', retryable: false, details: { issues: [] } }), trace: [] }));
      e.name = 'ValidationFailed';
      throw e;
    }
    return { valid: true };
  };
  const repair = (): unknown => ({ valid: true, rounds: 1 });
  return {
    'ingest-file': () => ({ docKey: 'docs/x.json', pages: 3 }),
    plan: () => ({
      reportTitle: 'BTN-101',
      sources: ['s1'],
      sectionIndex: [],
      rejectedSources: [],
      sections: Array.from({ length: n }, (_, index) => ({ sectionId: `s${index}`, index })),
    }),
    generate: () => ({ outputKey: 'sections/x.md' }),
    validate,
    repair,
    'repair-2': repair,
    flag: () => ({ flagged: true }),
    review: () => ({ approved: true, reviewer: 'bench', comment: null }),
    assemble: () => ({ docxKey: 'r.docx', markdownKey: 'r.md', htmlKey: 'r.html', sections: n }),
    notify: () => ({ sent: true }),
  };
}

const input = { reportTitle: 'BTN-101', template: 'clinical-study-report', sources: Array.from({ length: SOURCES }, (_, i) => ({ key: `src/${i}.pdf` })), maxSourceBytes: 1e7, notify: { kind: 'file' } };

async function transitions(def: AslDefinition, n: number, scenario: 'happy' | 'repairs', invoke = false): Promise<number> {
  const handlers = stubs(n, scenario);
  // lambda:invoke returns { Payload, StatusCode }: mirror the real shape (the review gate's task token answer is not wrapped)
  const wrapped = invoke ? Object.fromEntries(Object.entries(handlers).map(([k, fn]) => [k, k === 'review' ? fn : (i: unknown) => ({ Payload: fn((i as { Payload: unknown }).Payload), StatusCode: 200 })])) : handlers;
  const run = await runAslLocally(def, input, { handlers: wrapped });
  if (run.status !== 'succeeded') throw new Error(`bench run failed: ${run.error?.name}: ${run.error?.message}`);
  return run.transitions;
}

const hv = validateAsl(handwritten, { checkArn: true });
if (!hv.isValid) throw new Error(`hand-written machine is invalid:\n${hv.errorsText}`);
console.log('state transitions per run: reference report, compiled vs hand-written (aws-local-stepfunctions, 3 sources)');
console.log('Baton compiles tasks with the function ARN as Resource by default; "invoke" uses arn:aws:states:::lambda:invoke (one unwrap Pass per task).');
console.log('N sections | scenario | hand-written | compiled indexed | ratio | compiled plain | ratio | plain + lambda:invoke | ratio | static estimate (indexed, happy)');
for (const n of [8, 40, 200]) {
  const indexed = compileToAsl(reportPipeline, { expectedItems: { sections: n, ingest: SOURCES } }).definition;
  const plain = compileToAsl(reportPipeline, { expectedItems: { sections: n, ingest: SOURCES }, itemStepPaths: 'plain' }).definition;
  const invoke = compileToAsl(reportPipeline, { expectedItems: { sections: n, ingest: SOURCES }, itemStepPaths: 'plain', lambdaIntegration: 'invoke' }).definition;
  for (const scenario of ['happy', 'repairs'] as const) {
    const h = await transitions(handwritten, n, scenario);
    const ci = await transitions(indexed, n, scenario);
    const cp = await transitions(plain, n, scenario);
    const cv = await transitions(invoke, n, scenario, true);
    const est = scenario === 'happy' ? String(estimateRunCost(indexed, { sections: n, ingest: SOURCES }).transitions) : '-';
    console.log(`${String(n).padStart(10)} | ${scenario.padEnd(8)} | ${String(h).padStart(12)} | ${String(ci).padStart(16)} | ${(ci / h).toFixed(2)} | ${String(cp).padStart(14)} | ${(cp / h).toFixed(2)} | ${String(cv).padStart(20)} | ${(cv / h).toFixed(2)} | ${est}`);
  }
}
