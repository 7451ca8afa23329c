/**
 * State transitions per run of the reference report pipeline on Step Functions: Baton's compiled
 * machine against a hand-written machine of the same pipeline (bench/stepfunctions-handwritten.asl.json),
 * for N = 8, 40 and 200 sections. Both machines run on aws-local-stepfunctions with the same stub
 * Lambdas bound by state name; transitions are StateEntered events (STANDARD's billed unit). Also
 * prints the bytes of the events the stage Lambdas receive (data minimisation: a stage should get
 * its selected input, not the run state), and the size of the stage Lambda bundle (bench/lambda-bundle.ts).
 *
 *   npx turbo run build --filter=@baton/adapter-stepfunctions --filter=@baton/example-report
 *   npx tsx bench/stepfunctions.ts
 */
import { compileToAsl, estimateRunCost, validateAsl, type AslDefinition } from '@baton/adapter-stepfunctions';
// the stub stages of the hand-written comparison test (sources: tsx runs them as they are)
import { runReportStubbed } from '../packages/adapter-stepfunctions/src/local/test-support/report-stubs.js';
import { reportPipeline } from '@baton/example-report';
import { readFileSync } from 'node:fs';
import { printStageBundle } from './lambda-bundle.js';

const handwritten = JSON.parse(readFileSync(new URL('./stepfunctions-handwritten.asl.json', import.meta.url), 'utf8')) as AslDefinition;
const SOURCES = 3;

/** One run of a machine with the report's stub stages (shared with the hand-written comparison test): transitions and event bytes. */
async function transitions(def: AslDefinition, n: number, scenario: 'happy' | 'repairs', invoke: boolean): Promise<{ transitions: number; kb: number }> {
  let bytes = 0;
  const run = await runReportStubbed(def, n, scenario, { invoke, sources: SOURCES, onEvent: (event) => (bytes += Buffer.byteLength(JSON.stringify(event))) });
  if (run.status !== 'succeeded') throw new Error(`bench run failed: ${run.error?.name}: ${run.error?.message}`);
  return { transitions: run.transitions, kb: bytes / 1024 };
}

// first: it needs no run, so it prints even when a run below fails
await printStageBundle();
console.log('');

const hv = validateAsl(handwritten, { checkArn: true });
if (!hv.isValid) throw new Error(`hand-written machine is invalid:\n${hv.errorsText}`);
console.log(
  'state transitions per run: reference report, compiled vs hand-written (aws-local-stepfunctions, 3 sources; both machines call arn:aws:states:::lambda:invoke)',
);
console.log(
  'default = compileToAsl defaults (lambda:invoke, indexed item step paths); plain = itemStepPaths "plain"; function-arn = lambdaIntegration "function-arn" (function ARN as Resource)',
);
console.log('payload KB = JSON bytes of all stage Lambda events in the run (what the stages receive), hand-written vs default');
console.log(
  'N sections | scenario | hand-written | default | ratio | plain | ratio | function-arn | ratio | static estimate (default, happy) | payload KB hand-written | default | ratio',
);
const pad = (v: string | number, w: number): string => String(v).padStart(w);
for (const n of [8, 40, 200]) {
  const expectedItems = { sections: n, ingest: SOURCES };
  const byDefault = compileToAsl(reportPipeline, { expectedItems }).definition;
  const plain = compileToAsl(reportPipeline, { expectedItems, itemStepPaths: 'plain' }).definition;
  const functionArn = compileToAsl(reportPipeline, { expectedItems, lambdaIntegration: 'function-arn' }).definition;
  for (const scenario of ['happy', 'repairs'] as const) {
    const h = await transitions(handwritten, n, scenario, true);
    const d = await transitions(byDefault, n, scenario, true);
    const p = await transitions(plain, n, scenario, true);
    const f = await transitions(functionArn, n, scenario, false);
    const est = scenario === 'happy' ? String(estimateRunCost(byDefault, expectedItems).transitions) : '-';
    const row = [
      pad(n, 10),
      scenario.padEnd(8),
      pad(h.transitions, 12),
      pad(d.transitions, 7),
      (d.transitions / h.transitions).toFixed(2),
      pad(p.transitions, 5),
      (p.transitions / h.transitions).toFixed(2),
      pad(f.transitions, 12),
      (f.transitions / h.transitions).toFixed(2),
      pad(est, 31),
    ];
    console.log([...row, pad(h.kb.toFixed(1), 23), pad(d.kb.toFixed(1), 7), (d.kb / h.kb).toFixed(2)].join(' | '));
    if (d.transitions > h.transitions) process.exitCode = 1;
  }
}
if (process.exitCode === 1) console.log('FAIL: the default compiled machine costs more transitions than the hand-written one');
