import { defineStage } from '@baton/core';
import { sha256Hex } from '@baton/core/engine';
import { z } from 'zod';
import { IngestedDoc, SourceRef, type NormalisedDocument } from '../documents.js';
import { IngestLimits, ingestLimits } from './limits.js';
import { formatOf, parseDocument, type ParseLimits } from './parsers.js';
import { invalid, type RejectReason } from './reject.js';

/** Default largest source accepted by ingest: 10 MB. */
export const DEFAULT_MAX_SOURCE_BYTES = 10 * 1024 * 1024;

/** Input of {@link ingest}: one source file and the size limit. */
export const IngestInput = z.object({
  source: SourceRef,
  /** @default 10 MB */
  maxBytes: z.number().int().positive().default(DEFAULT_MAX_SOURCE_BYTES),
  /** Inflated size, zip entries and ratio, PDF pages and time, HTML depth; defaults in {@link IngestLimits}. */
  limits: IngestLimits.partial().default({}),
});

/**
 * Reads one source document (txt, md, html, pdf, docx) from the blob store, normalises it to
 * {@link NormalisedDocument} and writes it under `ingested/<contentHash>.json`, so the same bytes
 * always land on the same key. Bad input fails with `InvalidInput` naming the file, with the
 * reason in words and as `details.reason` ({@link RejectReason}): empty file, binary garbage or
 * an unknown text encoding, unsupported type, over the size limit, unreadable PDF or DOCX, a zip
 * bomb, too many PDF pages or too slow a PDF, HTML nested too deep, a dot-file, and a file the
 * lister refused (`source.rejected`: a symlink out of the sources
 * directory, a dangling one) — each one file's failure, so a map over the sources goes on.
 */
export const ingest = defineStage({
  name: 'ingest',
  version: 1,
  description: 'source document -> normalised JSON',
  input: IngestInput,
  output: IngestedDoc,
  throws: ['InvalidInput'],
  timeoutMs: 60_000,
  // pdf.js (1.6 MB) loads on the first PDF: deployed stage functions ship it beside their bundle
  unbundled: ['unpdf'],
  async run({ source, maxBytes, limits }, ctx) {
    if (source.rejected) throw invalid(source.name, source.rejected.message, source.rejected.reason as RejectReason);
    checkSourceName(source.name);
    const doc = await normaliseSource(source.name, await ctx.blobs.get(source.key), maxBytes, ingestLimits(limits));
    const key = `ingested/${doc.contentHash}.json`;
    await ctx.blobs.put(key, JSON.stringify(doc));
    const words = doc.paragraphs.reduce((n, p) => n + p.text.split(/\s+/).length, 0);
    return {
      docId: doc.docId,
      name: doc.name,
      title: doc.title,
      format: doc.format,
      key,
      paragraphs: doc.paragraphs.length,
      words,
      contentHash: doc.contentHash,
    };
  },
});

/** Refuses a dot-file (`.env`, `.DS_Store`): hidden files are never read as sources. */
export function checkSourceName(name: string): void {
  if (name.replace(/^.*[\\/]/, '').startsWith('.')) throw invalid(name, 'hidden file (the name starts with "."): not read as a source', 'dot-file');
}

/** Parses and normalises raw bytes within the limits; throws `InvalidInput` naming the file for bad input. */
export async function normaliseSource(
  name: string,
  bytes: Uint8Array,
  maxBytes = DEFAULT_MAX_SOURCE_BYTES,
  limits: ParseLimits = ingestLimits(),
): Promise<NormalisedDocument> {
  const format = formatOf(name);
  if (bytes.byteLength === 0) throw invalid(name, 'empty file (0 bytes)', 'empty');
  if (bytes.byteLength > maxBytes) throw invalid(name, `over the size limit: ${bytes.byteLength} bytes > ${maxBytes} bytes`, 'too-large');
  const parsed = await parseDocument(name, format, bytes, limits);
  const blocks = parsed.blocks.filter((b) => /[\p{L}\p{N}]/u.test(b.text));
  if (blocks.length === 0) throw invalid(name, 'empty file: no readable text', 'empty');
  const docId = docIdOf(name);
  return {
    docId,
    name,
    format,
    title: parsed.title ?? name,
    headings: parsed.headings,
    paragraphs: blocks.map((b, i) => ({ id: `${docId}#p${i + 1}`, text: b.text, ...(b.heading ? { heading: b.heading } : {}) })),
    contentHash: sha256Hex(bytes),
    bytes: bytes.byteLength,
  };
}

/** A citation-friendly document id from a file name: `Study Protocol.md` → `study-protocol`. */
export function docIdOf(name: string): string {
  const base = name.replace(/^.*[\\/]/, '').replace(/\.[^.]+$/, '');
  return (
    base
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'doc'
  );
}
