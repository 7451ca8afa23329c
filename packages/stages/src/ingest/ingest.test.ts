import { createMemoryBlobStore, type SerializedError } from '@baton/core';
import { getText, invokeStage } from '@baton/core/engine';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NormalisedDocument } from '../documents.js';
import { BAD_CORPUS_MAX_BYTES, createBadSourceCorpus } from './bad-sources.js';
import { ingest } from './stage.js';

const SOURCES = join(import.meta.dirname, '../../../../examples/report-generation/sources');

async function run(name: string, bytes: Uint8Array, maxBytes?: number) {
  const blobs = createMemoryBlobStore();
  await blobs.put(`in/${name}`, bytes);
  const result = await invokeStage(
    ingest,
    { source: { key: `in/${name}`, name }, ...(maxBytes ? { maxBytes } : {}) },
    { blobs, runId: 'r1', stepPath: 'ingest[0]/ingest-file', attempt: 1 },
  );
  return { result, blobs };
}

describe('ingest', () => {
  it.each(readdirSync(SOURCES))('normalises the sample source %s with stable paragraph ids', async (name) => {
    const bytes = new Uint8Array(readFileSync(join(SOURCES, name)));
    const { result, blobs } = await run(name, bytes);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const out = result.output as { key: string; paragraphs: number; docId: string; words: number };
    expect(out.paragraphs).toBeGreaterThan(3);
    expect(out.words).toBeGreaterThan(100);
    const doc = NormalisedDocument.parse(JSON.parse(await getText(blobs, out.key)));
    expect(doc.paragraphs[0]!.id).toBe(`${out.docId}#p1`);
    expect(out.key).toBe(`ingested/${doc.contentHash}.json`);
    // Idempotent: the same bytes land on the same key with the same content.
    const writes = blobs.writes;
    const again = await invokeStage(ingest, { source: { key: `in/${name}`, name } }, { blobs, runId: 'r2', stepPath: 'x', attempt: 2 });
    expect(again.ok && (again.output as { key: string }).key).toBe(out.key);
    expect(blobs.writes).toBe(writes);
  });

  it('keeps headings and table rows of Markdown, HTML and DOCX', async () => {
    const md = await run('study-protocol.md', new Uint8Array(readFileSync(join(SOURCES, 'study-protocol.md'))));
    const doc = NormalisedDocument.parse(JSON.parse(await getText(md.blobs, (md.result as { output: { key: string } }).output.key)));
    expect(doc.headings.map((h) => h.text)).toContain('Study Design');
    expect(doc.paragraphs.some((p) => p.text.startsWith('Randomisation | 0 |'))).toBe(true);
    const docx = await run('safety-summary.docx', new Uint8Array(readFileSync(join(SOURCES, 'safety-summary.docx'))));
    const d2 = NormalisedDocument.parse(JSON.parse(await getText(docx.blobs, (docx.result as { output: { key: string } }).output.key)));
    expect(d2.paragraphs.some((p) => p.text === 'Headache | 7.0% | 8.4% | 6.4%')).toBe(true);
    expect(d2.paragraphs.find((p) => p.text.startsWith('Headache |'))?.heading).toBe('Adverse Events Table');
  });

  const corpus = createBadSourceCorpus();
  it('has a corpus of at least 15 bad inputs', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(15);
  });

  it.each(corpus.map((c) => [c.name, c] as const))('rejects %s with a typed InvalidInput naming the file and the reason', async (name, c) => {
    const { result } = await run(name, c.bytes, BAD_CORPUS_MAX_BYTES);
    expect(result.ok).toBe(false);
    const error = (result as { error: SerializedError }).error;
    expect(error.code).toBe('InvalidInput');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`source "${name}"`);
    expect(error.message).toMatch(c.message);
    expect(error.details).toEqual({ file: name, reason: c.reason });
  });
});
