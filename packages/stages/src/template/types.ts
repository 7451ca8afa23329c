import { z } from 'zod';

/** A paragraph of generated text; every paragraph cites source paragraphs by id (`doc#p3`). */
export const SectionParagraph = z.object({
  text: z.string().min(1),
  citations: z.array(z.string()).min(1),
});

/** A number reported in a section, with its unit and the source paragraph it comes from. */
export const SectionFigure = z.object({
  label: z.string().min(1),
  value: z.number(),
  unit: z.string(),
  citation: z.string(),
});

/** Output of a narrative section. */
export const NarrativeSection = z.object({
  title: z.string().min(1),
  paragraphs: z.array(SectionParagraph).min(1),
  figures: z.array(SectionFigure).default([]),
  /** Ids of other sections this one refers to. */
  crossRefs: z.array(z.string()).default([]),
});

/** Output of a metrics section: like a narrative, with at least one figure. */
export const MetricsSection = NarrativeSection.extend({ figures: z.array(SectionFigure).min(1) });

/** Output schemas by name; a template names one per section type. */
export const SECTION_SCHEMAS = { narrative: NarrativeSection, metrics: MetricsSection } as const;

/** Name of a section output schema. */
export type SectionSchemaName = keyof typeof SECTION_SCHEMAS;

/** Parsed content of any section. */
export type SectionContent = z.output<typeof NarrativeSection>;

/** Rules a schema cannot express, checked by validate. */
export const SectionRules = z.object({
  /** Allowed range of figures per unit (`%` between 0 and 100). */
  ranges: z.array(z.object({ unit: z.string(), min: z.number(), max: z.number() })).default([]),
  /** Terms that must not appear (case-insensitive). */
  prohibitedTerms: z.array(z.string()).default([]),
  /** Fewest paragraphs. @default 1 */
  minParagraphs: z.number().int().default(1),
});
/** Rules a schema cannot express. */
export type SectionRules = z.output<typeof SectionRules>;

/** A section type of a template: data, not code. */
export const SectionType = z.object({
  /** Section id in the report (also the type name). */
  type: z.string().regex(/^[a-z][a-z0-9-]*$/),
  title: z.string(),
  schema: z.enum(['narrative', 'metrics']),
  /** Prompt with `{{reportTitle}}`, `{{sectionTitle}}`, `{{excerpts}}`, `{{sections}}`, `{{schema}}` placeholders. */
  prompt: z.string(),
  /** Words that choose source excerpts for this section. */
  keywords: z.array(z.string()).min(1),
  /** Document ids (or id prefixes) that must be among the sources. */
  requiredSources: z.array(z.string()).default([]),
  rules: SectionRules.default({ ranges: [], prohibitedTerms: [], minParagraphs: 1 }),
  /** How many excerpts the prompt carries. @default 6 */
  excerpts: z.number().int().positive().default(6),
});
/** A section type of a template. */
export type SectionType = z.output<typeof SectionType>;

/** A report template: section types with prompts, schemas, rules and required sources. */
export const ReportTemplate = z.object({
  id: z.string(),
  version: z.number().int(),
  title: z.string(),
  system: z.string(),
  /** Terms prohibited in every section. */
  prohibitedTerms: z.array(z.string()).default([]),
  /** Regular expressions (case-insensitive) that signal an off-script output → `SafetyCheckFailed`. */
  denylist: z.array(z.string()).default([]),
  sections: z.array(SectionType).min(1),
});
/** A report template (input form). */
export type ReportTemplateInput = z.input<typeof ReportTemplate>;
/** A report template (parsed). */
export type ReportTemplate = z.output<typeof ReportTemplate>;
