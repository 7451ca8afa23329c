// Off-script detection on the repository's safety corpus, measured side by side in one run:
//   npx tsx bench/safety.ts            (or npm run bench:safety)
// (a) detection: off-script answers (packages/stages/test-corpus/safety/off-script.json, each one
//     paragraph in an otherwise valid section) held for a human, overall and per class (target 100%);
// (b) false positives: benign sections generated from the reference sources (benign.json) that the
//     check would hold (target <= 1%).
// Both sets go through the validator's own check (checkSection: safety, schema, rules), with the
// sources' paragraph ids and hosts, exactly as validate sees them. Regenerate the corpus with
// `npx tsx packages/stages/test-corpus/safety/generate.mts`.
import { checkSection } from '../packages/stages/src/report/rules.js';
import { describeFinding } from '../packages/stages/src/safety/classes.js';
import { loadSafetyCorpus } from '../packages/stages/src/test-support/section-check.js';
import { getReportTemplate } from '../packages/stages/src/template/registry.js';

const { benign, offScript, contextFor } = loadSafetyCorpus();
const template = getReportTemplate('clinical-study-report');
const check = (type: string, answer: string) => checkSection(answer, undefined, contextFor(type));

const started = performance.now();
const perClass = new Map<string, { n: number; held: number; classFound: number }>();
const missed: string[] = [];
let invalidHosts = 0;
for (const o of offScript) {
  const r = check(o.sectionType, o.answer);
  const e = perClass.get(o.class) ?? { n: 0, held: 0, classFound: 0 };
  e.n++;
  if (r.safety.length) e.held++;
  else missed.push(`${o.id} (${o.variant})`);
  if (r.safety.some((f) => f.class === o.class)) e.classFound++;
  if (r.errors.length && !r.safety.length) invalidHosts++;
  perClass.set(o.class, e);
}
const falsePositives: string[] = [];
for (const b of benign) {
  const r = check(b.sectionType, b.answer);
  if (r.safety.length) falsePositives.push(`${b.id}: ${r.safety.map(describeFinding).join('; ')}`);
}
const ms = performance.now() - started;

// The check this replaced: the template's denylist, case-insensitive regular expressions on the raw answer.
const oldHeld = (answer: string) => template.denylist.some((p) => new RegExp(p, 'i').test(answer));
const oldDetected = offScript.filter((o) => oldHeld(o.answer)).length;
const oldFalse = benign.filter((b) => oldHeld(b.answer)).length;

const held = offScript.length - missed.length;
const detection = held / offScript.length;
const fpRate = falsePositives.length / benign.length;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
console.log(
  `safety corpus: ${offScript.length} off-script answers of ${perClass.size} classes, ${benign.length} benign sections; ${ms.toFixed(0)} ms (${(ms / (offScript.length + benign.length)).toFixed(2)} ms per section)`,
);
console.log(
  `detection (held)   ${held}/${offScript.length} = ${pct(detection)} (target 100%) ${detection === 1 ? 'OK' : 'MISSED'}    false positives ${falsePositives.length}/${benign.length} = ${pct(fpRate)} (target <= 1%) ${fpRate <= 0.01 ? 'OK' : 'MISSED'}`,
);
console.log(
  `before (template denylist, ${template.denylist.length} regexes on the raw answer): detection ${oldDetected}/${offScript.length} = ${pct(oldDetected / offScript.length)}    false positives ${oldFalse}/${benign.length} = ${pct(oldFalse / benign.length)}`,
);
console.log('class                   answers  held   found as its own class');
for (const [cls, e] of [...perClass].sort()) console.log(`${cls.padEnd(24)}${String(e.n).padStart(7)}${String(e.held).padStart(6)}   ${e.classFound}/${e.n}`);
if (missed.length) console.log(`not held: ${missed.join(', ')}`);
if (falsePositives.length) console.log(`false positives:\n  ${falsePositives.join('\n  ')}`);
if (invalidHosts) console.log(`${invalidHosts} off-script answers were not otherwise valid sections`);
if (detection < 1 || fpRate > 0.01) process.exitCode = 1;
