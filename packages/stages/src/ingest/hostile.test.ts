import { createMemoryBlobStore, type SerializedError } from '@baton/core';
import { invokeStage } from '@baton/core/engine';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHostileSourceCorpus, pdfOfPages, writeZip, zerosDeflated } from './hostile-sources.js';
import { ingestLimits } from './limits.js';
import { parseDocument } from './parsers.js';
import { listSourceDir, readSourceFile } from './source-dir.js';
import { ingest, normaliseSource } from './stage.js';
import { decodeText } from './text.js';
import { checkZip } from './zip.js';

const SOURCES = join(import.meta.dirname, '../../../../examples/report-generation/sources');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the ingest stage on one source and returns its serialized error (or undefined). */
async function ingestError(
  source: { name: string; key?: string; rejected?: { reason: string; message: string } },
  bytes?: Uint8Array,
): Promise<SerializedError | undefined> {
  const blobs = createMemoryBlobStore();
  const key = source.key ?? `in/${source.name}`;
  if (bytes) await blobs.put(key, bytes);
  const result = await invokeStage(ingest, { source: { ...source, key } }, { blobs, runId: 'r1', stepPath: 'ingest[0]/ingest-file', attempt: 1 });
  return result.ok ? undefined : result.error;
}

const reasonOf = (e: SerializedError | undefined): unknown => (e?.details as { reason?: string } | undefined)?.reason;

describe('ingest: hostile sources', () => {
  it.each(createHostileSourceCorpus().map((c) => [c.name, c] as const))('%s: typed InvalidInput naming the file, never retried', async (name, c) => {
    const error = await ingestError({ name }, c.bytes);
    expect(error).toMatchObject({ code: 'InvalidInput', retryable: false, details: { file: name, reason: c.reason } });
    expect(error!.message).toContain(`source "${name}": `);
    expect(error!.message).toMatch(c.message);
  });

  it('a 200 KB DOCX that inflates to 200 MB is refused from its central directory, before inflating', () => {
    const bomb = createHostileSourceCorpus().find((c) => c.name === 'bomb-200mb.docx')!;
    expect(bomb.bytes.byteLength).toBeLessThan(300 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => checkZip(bomb.name, bomb.bytes, ingestLimits())).toThrow(/over the limit of 52428800 bytes/);
    // nothing near 200 MB was allocated to find out
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(20 * 1024 * 1024);
  });

  it('a zip that lies about its sizes stops inflating at the cap', () => {
    const liar = writeZip([{ name: 'word/document.xml', deflated: zerosDeflated(64), declaredBytes: 10 }]);
    expect(() => checkZip('liar.docx', liar, ingestLimits())).toThrow(/inflates past 10 bytes/);
    // declaring the truth within the limits is fine; the inflated-size limit still caps it
    const honest = writeZip([{ name: 'word/document.xml', deflated: zerosDeflated(2), declaredBytes: 2 * 1024 * 1024 }]);
    expect(checkZip('honest.docx', honest, ingestLimits({ maxCompressionRatio: 1e6 }))).toHaveLength(1);
    expect(() => checkZip('honest.docx', honest, ingestLimits({ maxCompressionRatio: 1e6, maxInflatedBytes: 1024 * 1024 }))).toThrow(
      /over the limit of 1048576 bytes/,
    );
  });

  it('a real DOCX passes the zip checks and is read', async () => {
    const bytes = new Uint8Array(readFileSync(join(SOURCES, 'safety-summary.docx')));
    expect(checkZip('safety-summary.docx', bytes, ingestLimits()).length).toBeGreaterThan(3);
    expect((await normaliseSource('safety-summary.docx', bytes)).paragraphs.length).toBeGreaterThan(3);
  });

  it('a PDF over the page limit is refused before its pages are read', async () => {
    const pdf = await pdfOfPages(5);
    expect((await parseDocument('five.pdf', 'pdf', pdf, ingestLimits({ maxPdfPages: 5 }))).blocks).toHaveLength(5);
    await expect(parseDocument('five.pdf', 'pdf', pdf, ingestLimits({ maxPdfPages: 4 }))).rejects.toMatchObject({
      code: 'InvalidInput',
      message: 'source "five.pdf": PDF has 5 pages, over the limit of 4',
      details: { file: 'five.pdf', reason: 'pdf-pages' },
    });
  });

  it('a PDF that takes longer than its time limit stops between pages', async () => {
    const pdf = await pdfOfPages(5);
    let t = 0;
    const now = (): number => (t += 400);
    await expect(parseDocument('slow.pdf', 'pdf', pdf, { ...ingestLimits({ maxPdfMs: 1000 }), now })).rejects.toMatchObject({
      code: 'InvalidInput',
      message: 'source "slow.pdf": reading the PDF took over 1000 ms (stopped at page 3 of 5)',
      details: { reason: 'pdf-time' },
    });
  });

  it('HTML nested deeper than the parser can recurse is a typed error naming the file, not a RangeError', async () => {
    const html = new Uint8Array(Buffer.from(`${'<div>'.repeat(20_000)}x${'</div>'.repeat(20_000)}`));
    // with the depth check out of the way, the parser's own stack overflow is still caught and named
    await expect(parseDocument('deeper.html', 'html', html, ingestLimits({ maxHtmlDepth: 1_000_000 }))).rejects.toMatchObject({
      code: 'InvalidInput',
      retryable: false,
      details: { file: 'deeper.html', reason: 'html-depth' },
    });
    // unclosed <p> and <li> are flat, not deep
    const flat = `<ul>${'<li>item'.repeat(2000)}</ul>${'<p>para'.repeat(2000)}`;
    expect((await parseDocument('flat.html', 'html', new Uint8Array(Buffer.from(flat)))).blocks.length).toBe(4000);
  });
});

describe('ingest: text encodings', () => {
  const prose = 'Étude clinique BTN-101: résumé des données de sécurité, café naïve.\n\nSecond paragraph.';
  const utf16be = (s: string): Buffer => Buffer.from(s, 'utf16le').swap16();
  it.each([
    ['UTF-8 with BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(prose)]), 'utf-8'],
    ['UTF-16 LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(prose, 'utf16le')]), 'utf-16le'],
    ['UTF-16 BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(prose)]), 'utf-16be'],
    ['UTF-16 LE without BOM', Buffer.from(prose, 'utf16le'), 'utf-16le'],
    ['UTF-16 BE without BOM', utf16be(prose), 'utf-16be'],
    ['Latin-1', Buffer.from(prose, 'latin1'), 'latin-1'],
  ] as const)('%s is read, not called binary', async (_label, bytes, encoding) => {
    expect(decodeText('notes.txt', bytes)).toEqual({ text: prose, encoding });
    const doc = await normaliseSource('notes.txt', new Uint8Array(bytes));
    expect(doc.paragraphs.map((p) => p.text)).toEqual([prose.split('\n\n')[0], 'Second paragraph.']);
  });

  it('Windows-1252 quotes in Latin-1 text read as quotes', () => {
    const bytes = Buffer.concat([Buffer.from([0x93]), Buffer.from('ok'), Buffer.from([0x94]), Buffer.from(' said the owner of the caf'), Buffer.from([0xe9])]);
    expect(decodeText('q.txt', bytes)).toEqual({ text: '\u201cok\u201d said the owner of the café', encoding: 'latin-1' });
  });

  it('bytes that are no known encoding are refused saying what they are not', () => {
    const noise = Buffer.from(Array.from({ length: 400 }, (_, i) => 0x80 + ((i * 37) % 0x7f)));
    expect(() => decodeText('noise.txt', noise)).toThrow(
      /binary content: not UTF-8 \(invalid byte sequences\), not UTF-16 \(no byte-order mark or NUL pattern\), and 100% of its bytes are above 0x7F/,
    );
  });
});

describe('sources directory: symlinks and dot-files', () => {
  const tree = (): string => {
    const root = mkdtempSync(join(tmpdir(), 'baton-sources-'));
    dirs.push(root);
    const dir = join(root, 'sources');
    mkdirSync(dir);
    writeFileSync(join(dir, 'good.md'), '# Good\n\nA good source paragraph.');
    writeFileSync(join(dir, '.env'), 'SECRET=1');
    writeFileSync(join(root, 'outside.txt'), 'root:x:0:0:root:/root:/bin/bash');
    symlinkSync('/etc/passwd', join(dir, 'passwd.txt'));
    symlinkSync('../outside.txt', join(dir, 'escape.txt'));
    symlinkSync('missing.md', join(dir, 'dangling.md'));
    symlinkSync('good.md', join(dir, 'alias.md'));
    mkdirSync(join(dir, 'nested'));
    return dir;
  };

  it('follows symlinks only inside the directory; every other entry is refused with its reason', () => {
    const entries = listSourceDir(tree());
    expect(entries.map((e) => ('path' in e ? [e.name, 'read'] : [e.name, e.rejected.reason]))).toEqual([
      ['.env', 'dot-file'],
      ['alias.md', 'read'],
      ['dangling.md', 'dangling-symlink'],
      ['escape.txt', 'symlink-outside'],
      ['good.md', 'read'],
      ['nested', 'not-a-file'],
      ['passwd.txt', 'symlink-outside'],
    ]);
    const passwd = entries.find((e) => e.name === 'passwd.txt');
    expect(passwd && 'rejected' in passwd && passwd.rejected.message).toBe('symbolic link to "/etc/passwd", outside the sources directory: not followed');
    const alias = entries.find((e) => e.name === 'alias.md');
    expect(alias && 'path' in alias && Buffer.from(readSourceFile(alias)).toString()).toContain('A good source paragraph');
  });

  it("a refused entry reaches ingest as that file's typed failure", async () => {
    const dangling = listSourceDir(tree()).find((e) => e.name === 'dangling.md')!;
    expect('rejected' in dangling).toBe(true);
    const error = await ingestError({ name: dangling.name, key: 'rejected/dangling.md', ...('rejected' in dangling ? { rejected: dangling.rejected } : {}) });
    expect(error).toMatchObject({
      code: 'InvalidInput',
      retryable: false,
      message: 'source "dangling.md": dangling symbolic link to "missing.md" (nothing there)',
      details: { file: 'dangling.md', reason: 'dangling-symlink' },
    });
  });

  it('a dot-file handed to ingest is refused naming it', async () => {
    const error = await ingestError({ name: '.env' }, new Uint8Array(Buffer.from('SECRET=1')));
    expect(error).toMatchObject({
      code: 'InvalidInput',
      message: 'source ".env": hidden file (the name starts with "."): not read as a source',
      details: { reason: 'dot-file' },
    });
    expect(reasonOf(error)).toBe('dot-file');
  });
});
