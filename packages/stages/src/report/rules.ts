import type { SectionIndexEntry, SectionTask } from '../documents.js';
import type { SafetyFinding } from '../safety/classes.js';
import { createSafetyScanner, type SafetyScanner } from '../safety/scan.js';
import { SECTION_SCHEMAS, type ReportTemplate, type SectionContent, type SectionType } from '../template/types.js';

/** The outcome of checking one section output. */
export interface SectionCheck {
  /** Off-script findings, each named by class (any one sends the section to a human). */
  safety: SafetyFinding[];
  /** Precise schema and rule violations, quotable in a repair prompt. */
  errors: string[];
  /** The parsed content when there are no errors. */
  content?: SectionContent;
}

/** Everything the rules need besides the output. */
export interface CheckContext {
  task: SectionTask;
  template: ReportTemplate;
  section: SectionType;
  sectionIndex: readonly SectionIndexEntry[];
  /** Ids of every real source paragraph. */
  paragraphIds: ReadonlySet<string>;
  /** Hosts the sources name (links to them are allowed). @default none */
  sourceHosts?: ReadonlySet<string>;
}

/**
 * Checks a model answer: safety (every class of off-script output, on normalised text, plus the
 * template's denylist), JSON, schema, then rules a schema cannot express: cross-references exist,
 * figures in declared ranges, prohibited terms absent, every citation names a real source paragraph.
 * Safety findings are reported whether or not the answer is otherwise valid.
 */
export function checkSection(text: string, json: unknown, ctx: CheckContext): SectionCheck {
  const safety = scannerFor(ctx).scanAnswer(text, json);
  let value = json;
  if (value === undefined) {
    try {
      value = JSON.parse(stripFences(text));
    } catch (e) {
      return { safety, errors: [`the answer is not valid JSON (${(e as Error).message}); answer with one JSON object only`] };
    }
  }
  const parsed = SECTION_SCHEMAS[ctx.section.schema].safeParse(value);
  if (!parsed.success) {
    return { safety, errors: parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`) };
  }
  const content = parsed.data;
  const errors: string[] = [];
  const rules = ctx.section.rules;
  if (content.paragraphs.length < rules.minParagraphs) errors.push(`needs at least ${rules.minParagraphs} paragraphs, has ${content.paragraphs.length}`);
  content.paragraphs.forEach((p, i) => {
    for (const c of p.citations) {
      if (!ctx.paragraphIds.has(c)) errors.push(`paragraphs.${i}: citation "${c}" does not name a source paragraph; cite only ids given in the excerpts`);
    }
  });
  const known = new Set(ctx.sectionIndex.map((s) => s.sectionId));
  for (const ref of content.crossRefs) {
    if (!known.has(ref) || ref === ctx.task.sectionId)
      errors.push(`crossRefs: "${ref}" is not another section of this report; known: ${[...known].join(', ')}`);
  }
  content.figures.forEach((f, i) => {
    if (!ctx.paragraphIds.has(f.citation)) errors.push(`figures.${i}: citation "${f.citation}" does not name a source paragraph`);
    for (const r of rules.ranges) {
      if (r.unit === f.unit && (f.value < r.min || f.value > r.max)) {
        errors.push(`figures.${i}: "${f.label}" = ${f.value} ${f.unit} is outside the declared range ${r.min}..${r.max} ${r.unit}`);
      }
    }
  });
  const allText = [content.title, ...content.paragraphs.map((p) => p.text), ...content.figures.map((f) => f.label)].join('\n').toLowerCase();
  for (const term of [...ctx.template.prohibitedTerms, ...rules.prohibitedTerms]) {
    if (new RegExp(`\\b${escapeRegExp(term.toLowerCase())}\\b`).test(allText)) errors.push(`prohibited term "${term}" must not appear`);
  }
  return errors.length ? { safety, errors } : { safety, errors, content };
}

const scanners = new WeakMap<object, Map<string, SafetyScanner>>();

/** One scanner per section type and set of source hosts: the prompt's shingles are built once. */
function scannerFor(ctx: CheckContext): SafetyScanner {
  const hosts = [...(ctx.sourceHosts ?? [])].sort();
  const key = hosts.join(' ');
  let byHosts = scanners.get(ctx.section);
  if (!byHosts) scanners.set(ctx.section, (byHosts = new Map()));
  let scanner = byHosts.get(key);
  if (!scanner) {
    scanner = createSafetyScanner({ sourceHosts: hosts, protectedTexts: [ctx.template.system, ctx.section.prompt], denylist: ctx.template.denylist });
    if (byHosts.size > 16) byHosts.clear();
    byHosts.set(key, scanner);
  }
  return scanner;
}

/** The JSON of an answer: the whole text when it parses (a string in it may hold a fence), else the first fenced block. */
function stripFences(text: string): string {
  const whole = text.trim();
  if (whole.startsWith('{') || whole.startsWith('[')) return whole;
  const m = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  return (m ? m[1]! : text).trim();
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
