import { constants, deflateRawSync } from 'node:zlib';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { RejectReason } from './reject.js';

/** One hostile source file and what ingest must say about it. */
export interface HostileSource {
  name: string;
  bytes: Uint8Array;
  /** `details.reason` of the expected `InvalidInput`. */
  reason: RejectReason;
  /** The message must match this too. */
  message: RegExp;
}

/** A zip entry to write: its bytes, or a deflate stream with the size the central directory declares. */
export interface ZipSpec {
  name: string;
  data?: Uint8Array;
  /** Raw deflate stream to store as is (for bombs); with `declaredBytes`. */
  deflated?: Uint8Array;
  declaredBytes?: number;
}

/**
 * Writes a zip archive (deflate entries, central directory) from specs. Entries given as a
 * ready deflate stream keep whatever size they declare, which is how a lying zip bomb is made.
 *
 * @example
 * ```ts
 * const docx = writeZip([{ name: 'word/document.xml', data: Buffer.from('<w:document/>') }]);
 * ```
 */
export function writeZip(specs: readonly ZipSpec[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const s of specs) {
    const name = Buffer.from(s.name, 'utf8');
    const body = s.deflated ? Buffer.from(s.deflated) : deflateRawSync(s.data ?? new Uint8Array());
    const size = s.declaredBytes ?? s.data?.byteLength ?? 0;
    const crc = s.data ? crc32(s.data) : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.byteLength, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.byteLength, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.byteLength, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.byteLength, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.byteLength + body.byteLength;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(specs.length, 8);
  end.writeUInt16LE(specs.length, 10);
  end.writeUInt32LE(dir.byteLength, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, dir, end]));
}

/**
 * A raw deflate stream of `mib` MiB of zeros, about 1 KB per MiB, built from one flushed
 * compressed MiB repeated (nothing this size is ever held inflated here).
 */
export function zerosDeflated(mib: number): Uint8Array {
  const chunk = deflateRawSync(Buffer.alloc(1024 * 1024), { finishFlush: constants.Z_FULL_FLUSH });
  const finalEmptyBlock = Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]);
  return new Uint8Array(Buffer.concat([...Array.from({ length: mib }, () => chunk), finalEmptyBlock]));
}

/** A PDF of `pages` pages, each with one line of text. */
export async function pdfOfPages(pages: number): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (let i = 1; i <= pages; i++) pdf.addPage([300, 200]).drawText(`Page ${i} of the study report.`, { x: 20, y: 150, size: 12, font });
  return pdf.save();
}

const DOCX_TYPES = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>';

/**
 * Hostile sources built in memory (no bomb is ever committed): zip bombs in a DOCX (one that
 * declares 200 MB, one that lies about its size, one with a bomb's ratio under the size limit,
 * one with too many entries) and HTML nested 5000 deep. Ingest each with the default limits;
 * every one must fail with `InvalidInput` naming the file, before anything big is inflated or parsed.
 */
export function createHostileSourceCorpus(): HostileSource[] {
  const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
  const types = { name: '[Content_Types].xml', data: text(DOCX_TYPES) };
  return [
    {
      name: 'bomb-200mb.docx',
      bytes: writeZip([types, { name: 'word/document.xml', deflated: zerosDeflated(200), declaredBytes: 200 * 1024 * 1024 }]),
      reason: 'zip-inflated-size',
      message: /declares 209715\d+ bytes inflated, over the limit/,
    },
    {
      name: 'bomb-lying.docx',
      bytes: writeZip([types, { name: 'word/document.xml', deflated: zerosDeflated(200), declaredBytes: 4096 }]),
      reason: 'zip-inflated-size',
      message: /entry "word\/document.xml" inflates past 4096 bytes.*zip bomb/,
    },
    {
      name: 'bomb-ratio.docx',
      bytes: writeZip([types, { name: 'word/document.xml', deflated: zerosDeflated(40), declaredBytes: 40 * 1024 * 1024 }]),
      reason: 'zip-ratio',
      message: /zip entry "word\/document.xml" compresses 41943040 bytes into \d+ \(ratio \d+, over the limit of 100\)/,
    },
    {
      name: 'many-entries.docx',
      bytes: writeZip([types, ...Array.from({ length: 1500 }, (_, i) => ({ name: `word/media/e${i}.xml`, data: text('<x/>') }))]),
      reason: 'zip-entries',
      message: /zip content has 1501 entries, over the limit of 1000/,
    },
    {
      name: 'deep.html',
      bytes: text(`<html><body>${'<div>'.repeat(5000)}<p>deep</p>${'</div>'.repeat(5000)}</body></html>`),
      reason: 'html-depth',
      message: /HTML nested more than 256 elements deep/,
    },
  ];
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
