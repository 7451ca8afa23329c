import { type BlobStore, StageError } from '@baton/core';
import { getText } from '@baton/core/engine';
import { NormalisedDocument, type IngestedDoc, type Paragraph } from '../documents.js';

/** Loads the normalised documents behind ingest summaries. */
export async function loadDocuments(blobs: BlobStore, docs: readonly Pick<IngestedDoc, 'key'>[]): Promise<NormalisedDocument[]> {
  return Promise.all(docs.map(async (d) => NormalisedDocument.parse(JSON.parse(await getText(blobs, d.key)))));
}

/** All paragraphs by id. */
export function paragraphIndex(docs: readonly NormalisedDocument[]): Map<string, Paragraph> {
  const out = new Map<string, Paragraph>();
  for (const d of docs) for (const p of d.paragraphs) out.set(p.id, p);
  return out;
}

/** Map results as the interpreter writes them. */
export type MapResult<T> = { status: 'succeeded'; output: T } | { status: 'failed'; error: { code: string; message: string; details?: unknown } };

/** Splits map results into outputs and failures; throws `InvalidInput` when none succeeded. */
export function partition<T>(results: readonly MapResult<T>[]): { ok: T[]; failed: { code: string; message: string }[] } {
  const ok: T[] = [];
  const failed: { code: string; message: string }[] = [];
  for (const r of results) {
    if (r.status === 'succeeded') ok.push(r.output);
    else failed.push({ code: r.error.code, message: r.error.message });
  }
  return { ok, failed };
}

/** Throws `InvalidInput` listing why every source was rejected. */
export function noUsableSources(failed: readonly { message: string }[]): StageError {
  const why = failed.length ? failed.map((f) => f.message).join('; ') : 'no source files were given';
  return new StageError('InvalidInput', `no usable source documents: ${why}`, { details: { rejected: failed } });
}
