import { inflateRawSync } from 'node:zlib';
import { RATIO_FLOOR_BYTES, type IngestLimits } from './limits.js';
import { invalid } from './reject.js';

/** One entry of a zip central directory. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedBytes: number;
  /** As declared; {@link checkZip} holds each entry to it while inflating. */
  inflatedBytes: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/**
 * Checks a zip-based source (DOCX) against the limits before a parser inflates it: first what its
 * central directory declares (entry count, total inflated size, compression ratios), then the
 * real inflated bytes, entry by entry with a byte cap, so a zip bomb stops after at most
 * `maxInflatedBytes` of output, never after inflating everything. Throws `InvalidInput` naming
 * the file; the reasons are `zip-entries`, `zip-inflated-size`, `zip-ratio` and `unreadable-docx`.
 *
 * @example
 * ```ts
 * checkZip('report.docx', bytes, ingestLimits()); // returns the entries, or throws InvalidInput
 * ```
 */
export function checkZip(name: string, bytes: Uint8Array, limits: IngestLimits): ZipEntry[] {
  const entries = readCentralDirectory(name, bytes, limits);
  const declared = entries.reduce((n, e) => n + e.inflatedBytes, 0);
  if (declared > limits.maxInflatedBytes) {
    throw invalid(name, `zip content declares ${declared} bytes inflated, over the limit of ${limits.maxInflatedBytes} bytes`, 'zip-inflated-size');
  }
  for (const e of entries) checkRatio(name, e.name, e.inflatedBytes, e.compressedBytes, limits);
  checkRatio(name, '(whole archive)', declared, bytes.byteLength, limits);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let inflated = 0;
  for (const e of entries) {
    const data = entryData(name, buf, e);
    const cap = Math.min(e.inflatedBytes, limits.maxInflatedBytes - inflated);
    const size = inflatedSize(name, e, data, cap);
    if (size !== e.inflatedBytes)
      throw invalid(name, `unreadable DOCX: entry "${e.name}" inflates to ${size} bytes, not the ${e.inflatedBytes} it declares`, 'unreadable-docx');
    inflated += size;
  }
  return entries;
}

/** Lists the central directory, refusing more than `maxZipEntries` before reading them all. */
function readCentralDirectory(name: string, buf: Uint8Array, limits: IngestLimits): ZipEntry[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (why: string): never => {
    throw invalid(name, `unreadable DOCX: ${why}`, 'unreadable-docx');
  };
  let end = -1;
  for (let i = buf.byteLength - 22; i >= Math.max(0, buf.byteLength - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD) {
      end = i;
      break;
    }
  }
  if (end < 0) bad('no zip central directory (truncated or not a zip file)');
  const count = view.getUint16(end + 10, true);
  const dirOffset = view.getUint32(end + 16, true);
  if (count === 0xffff || dirOffset === 0xffffffff) bad('ZIP64 archives are not supported');
  if (count > limits.maxZipEntries) {
    throw invalid(name, `zip content has ${count} entries, over the limit of ${limits.maxZipEntries}`, 'zip-entries');
  }
  const entries: ZipEntry[] = [];
  let p = dirOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.byteLength || view.getUint32(p, true) !== CENTRAL) bad(`central directory entry ${i + 1} of ${count} is damaged`);
    const nameLength = view.getUint16(p + 28, true);
    const entry: ZipEntry = {
      name: Buffer.from(buf.subarray(p + 46, p + 46 + nameLength)).toString('utf8'),
      method: view.getUint16(p + 10, true),
      compressedBytes: view.getUint32(p + 20, true),
      inflatedBytes: view.getUint32(p + 24, true),
      localHeaderOffset: view.getUint32(p + 42, true),
    };
    if (entry.compressedBytes === 0xffffffff || entry.inflatedBytes === 0xffffffff) bad('ZIP64 entries are not supported');
    if (entry.method !== 0 && entry.method !== 8) bad(`entry "${entry.name}" uses compression method ${entry.method} (only stored and deflate are read)`);
    entries.push(entry);
    p += 46 + nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  return entries;
}

function checkRatio(name: string, entry: string, inflated: number, compressed: number, limits: IngestLimits): void {
  if (inflated < RATIO_FLOOR_BYTES) return;
  const ratio = inflated / Math.max(compressed, 1);
  if (ratio > limits.maxCompressionRatio) {
    throw invalid(
      name,
      `zip entry "${entry}" compresses ${inflated} bytes into ${compressed} (ratio ${Math.round(ratio)}, over the limit of ${limits.maxCompressionRatio}): a zip bomb`,
      'zip-ratio',
    );
  }
}

function entryData(name: string, buf: Buffer, e: ZipEntry): Buffer {
  const at = e.localHeaderOffset;
  if (at + 30 > buf.byteLength || buf.readUInt32LE(at) !== LOCAL)
    throw invalid(name, `unreadable DOCX: entry "${e.name}" has no local header`, 'unreadable-docx');
  const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  if (start + e.compressedBytes > buf.byteLength) throw invalid(name, `unreadable DOCX: entry "${e.name}" is truncated`, 'unreadable-docx');
  return buf.subarray(start, start + e.compressedBytes);
}

/** Inflates one entry with output capped at `cap` bytes (+1 to tell "more" from "exactly"). */
function inflatedSize(name: string, e: ZipEntry, data: Buffer, cap: number): number {
  if (e.method === 0) return data.byteLength;
  try {
    return inflateRawSync(data, { maxOutputLength: Math.max(cap, 0) + 1 }).byteLength;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw invalid(
        name,
        `zip entry "${e.name}" inflates past ${cap} bytes, more than it declares (${e.inflatedBytes}) or than the inflated-size limit leaves: a zip bomb`,
        'zip-inflated-size',
      );
    }
    throw invalid(name, `unreadable DOCX: entry "${e.name}": ${(err as Error).message}`, 'unreadable-docx');
  }
}
