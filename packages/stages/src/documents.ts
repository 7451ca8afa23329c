import { z } from 'zod';

/** A source file stored in the blob store, as handed to ingest. */
export const SourceRef = z.object({
  /** Blob key of the raw bytes. */
  key: z.string().min(1),
  /** Original file name; its extension chooses the parser. */
  name: z.string().min(1),
  /**
   * Set by whoever listed the sources for a file it would not read (a symlink out of the sources
   * directory, a dangling one): ingest fails that file with this reason, and the run goes on.
   */
  rejected: z.object({ reason: z.string(), message: z.string() }).optional(),
});
/** A source file stored in the blob store. */
export type SourceRef = z.infer<typeof SourceRef>;

/** One paragraph of a normalised document, with an id that is stable for the same bytes. */
export const Paragraph = z.object({
  /** `<docId>#p<n>`, the id citations name. */
  id: z.string(),
  text: z.string(),
  /** The heading the paragraph sits under, if any. */
  heading: z.string().optional(),
});
/** One paragraph of a normalised document. */
export type Paragraph = z.infer<typeof Paragraph>;

/** The normalised JSON form of any source document (what ingest writes). */
export const NormalisedDocument = z.object({
  docId: z.string(),
  name: z.string(),
  format: z.enum(['txt', 'md', 'html', 'pdf', 'docx']),
  title: z.string(),
  headings: z.array(z.object({ level: z.number().int(), text: z.string() })),
  paragraphs: z.array(Paragraph),
  /** sha256 of the raw bytes. */
  contentHash: z.string(),
  bytes: z.number().int(),
});
/** The normalised JSON form of a source document. */
export type NormalisedDocument = z.infer<typeof NormalisedDocument>;

/** What ingest returns per document: a summary and where the normalised JSON is. */
export const IngestedDoc = z.object({
  docId: z.string(),
  name: z.string(),
  title: z.string(),
  format: NormalisedDocument.shape.format,
  /** Blob key of the {@link NormalisedDocument}. */
  key: z.string(),
  paragraphs: z.number().int(),
  words: z.number().int(),
  contentHash: z.string(),
});
/** What ingest returns per document. */
export type IngestedDoc = z.infer<typeof IngestedDoc>;

/** One section to write, as planned. */
export const SectionTask = z.object({
  sectionId: z.string(),
  /** Section type name in the template. */
  type: z.string(),
  title: z.string(),
  /** Template the section type comes from. */
  template: z.string(),
  /** Paragraph ids (`doc#p3`) given to the model as excerpts. */
  contextRefs: z.array(z.string()),
  /** Where generate writes the raw model output. */
  outputKey: z.string(),
  /** Required sources the plan could not find; generate fails the section with `InvalidInput`. */
  missingSources: z.array(z.string()).default([]),
});
/** One section to write. */
export type SectionTask = z.infer<typeof SectionTask>;

/** Section ids and titles of the whole report, for cross-references. */
export const SectionIndexEntry = z.object({ sectionId: z.string(), title: z.string() });
/** A section id and title. */
export type SectionIndexEntry = z.infer<typeof SectionIndexEntry>;
