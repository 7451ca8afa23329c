import type { RejectReason } from './reject.js';

/** One bad source file and what ingest must say about it. */
export interface BadSource {
  name: string;
  bytes: Uint8Array;
  /** `details.reason` of the expected `InvalidInput`. */
  reason: RejectReason;
  /** The message must match this too. */
  message: RegExp;
}

/** The size limit {@link createBadSourceCorpus}'s oversize file is meant for. */
export const BAD_CORPUS_MAX_BYTES = 4096;

/**
 * A corpus of bad source documents (empty, binary garbage, unsupported types, over the size
 * limit, unreadable PDF and DOCX), for tests of ingest on any engine. Ingest each with
 * `maxBytes: BAD_CORPUS_MAX_BYTES`; every one must fail with `InvalidInput` naming the file.
 */
export function createBadSourceCorpus(): BadSource[] {
  const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
  const bytes = (n: number, f: (i: number) => number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i) & 0xff);
  return [
    { name: 'empty.txt', bytes: new Uint8Array(0), reason: 'empty', message: /empty file/ },
    { name: 'blank.md', bytes: text('   \n\n\t\n  '), reason: 'empty', message: /no readable text/ },
    { name: 'only-markup.html', bytes: text('<html><body><div></div><p> </p></body></html>'), reason: 'empty', message: /no readable text/ },
    { name: 'punctuation.txt', bytes: text('---- *** ....\n\n!!! ???'), reason: 'empty', message: /no readable text/ },
    { name: 'nul-bytes.txt', bytes: bytes(512, (i) => (i % 7 === 0 ? 0 : 65 + (i % 26))), reason: 'binary', message: /binary content/ },
    { name: 'latin1-garbage.md', bytes: bytes(400, (i) => 0x80 + ((i * 37) % 0x7f)), reason: 'binary', message: /binary content/ },
    { name: 'control-chars.txt', bytes: bytes(300, (i) => (i % 3 === 0 ? 1 + (i % 8) : 97)), reason: 'binary', message: /binary content/ },
    { name: 'nul.html', bytes: text('<html><body><p>ok</p>\u0000\u0000</body></html>'), reason: 'binary', message: /binary content/ },
    { name: 'photo.png', bytes: bytes(64, (i) => [0x89, 0x50, 0x4e, 0x47][i] ?? i), reason: 'unsupported-type', message: /unsupported type "\.png"/ },
    { name: 'README', bytes: text('no extension here'), reason: 'unsupported-type', message: /unsupported type "\(no extension\)"/ },
    { name: 'sheet.xlsx', bytes: text('PK fake spreadsheet'), reason: 'unsupported-type', message: /unsupported type "\.xlsx"/ },
    { name: 'huge.txt', bytes: text('word '.repeat(BAD_CORPUS_MAX_BYTES)), reason: 'too-large', message: /over the size limit/ },
    { name: 'not-a-pdf.pdf', bytes: text('Hello, I am plain text pretending to be a PDF.'), reason: 'unreadable-pdf', message: /unreadable PDF/ },
    { name: 'truncated.pdf', bytes: text('%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R'), reason: 'unreadable-pdf', message: /unreadable PDF/ },
    {
      name: 'random.pdf',
      bytes: Uint8Array.from([...Buffer.from('%PDF-1.7\n'), ...bytes(300, (i) => (i * 131 + 7) % 251)]),
      reason: 'unreadable-pdf',
      message: /unreadable PDF/,
    },
    { name: 'not-a-zip.docx', bytes: text('This is not a Word document.'), reason: 'unreadable-docx', message: /unreadable DOCX/ },
    {
      name: 'corrupt.docx',
      bytes: Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...bytes(200, (i) => (i * 17) % 256)]),
      reason: 'unreadable-docx',
      message: /unreadable DOCX/,
    },
  ];
}
