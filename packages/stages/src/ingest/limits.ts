import { z } from 'zod';

/**
 * What one source may cost ingest, beyond its size on disk. Each limit is checked before the
 * work it bounds: a DOCX's entry count, declared sizes and compression ratios from its zip
 * central directory before anything is inflated, then its inflated bytes while they stream; a
 * PDF's page count before its pages are read and its time between pages; an HTML file's nesting
 * depth before it is parsed.
 */
export const IngestLimits = z.object({
  /** Most bytes all entries of a zip-based source (DOCX) may inflate to. @default 50 MB */
  maxInflatedBytes: z
    .number()
    .int()
    .positive()
    .default(50 * 1024 * 1024),
  /** Most entries in a zip-based source. @default 1000 */
  maxZipEntries: z.number().int().positive().default(1000),
  /**
   * Largest inflated / compressed ratio of a zip entry (and of the whole archive) once it
   * inflates past {@link RATIO_FLOOR_BYTES}: text compresses 5-20 times, a zip bomb 1000 times.
   * @default 100
   */
  maxCompressionRatio: z.number().positive().default(100),
  /** Most pages of a PDF. @default 1000 */
  maxPdfPages: z.number().int().positive().default(1000),
  /** Most time spent reading a PDF's text, checked between pages. @default 30 s */
  maxPdfMs: z.number().int().positive().default(30_000),
  /** Deepest element nesting of an HTML source (deeper HTML overflows the parser's stack). @default 256 */
  maxHtmlDepth: z.number().int().positive().default(256),
});
/** Limits of ingest; see {@link IngestLimits}. */
export type IngestLimits = z.output<typeof IngestLimits>;

/** Below this many inflated bytes an entry's ratio is not judged: tiny repetitive XML compresses well. */
export const RATIO_FLOOR_BYTES = 1024 * 1024;

/**
 * The limits with every default filled in.
 *
 * @example
 * ```ts
 * ingestLimits({ maxPdfPages: 50 }).maxInflatedBytes; // 52428800
 * ```
 */
export function ingestLimits(partial: { [K in keyof IngestLimits]?: IngestLimits[K] | undefined } = {}): IngestLimits {
  return IngestLimits.parse(partial);
}
