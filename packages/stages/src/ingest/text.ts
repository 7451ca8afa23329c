import { invalid } from './reject.js';

/** The encodings ingest reads text sources in. */
export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'latin-1';

/** Share of undecodable or control characters above which a text is called binary. */
const MAX_BAD_SHARE = 0.01;
/** Share of bytes above 0x7F beyond which non-UTF-8 bytes are not taken for Latin-1 prose. */
const MAX_LATIN1_HIGH_SHARE = 0.3;

/**
 * Decodes a text source: a byte-order mark decides (UTF-8, UTF-16 LE/BE); without one, NUL bytes
 * in every other position mean UTF-16, valid UTF-8 is UTF-8, and other bytes that read as mostly
 * ASCII prose are Latin-1 (Windows-1252). Anything else is refused with `InvalidInput` saying
 * what was found (NUL bytes, control characters, bytes that are no known encoding).
 *
 * @example
 * ```ts
 * decodeText('notes.txt', Buffer.from('caf\xe9', 'latin1')); // { text: 'café', encoding: 'latin-1' }
 * ```
 */
export function decodeText(name: string, bytes: Uint8Array): { text: string; encoding: TextEncoding } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bom = bomOf(buf);
  if (bom) return checked(name, new TextDecoder(bom.label).decode(buf.subarray(bom.length)), bom.encoding);
  const utf16 = utf16Guess(buf);
  if (utf16) return checked(name, new TextDecoder(utf16 === 'utf-16le' ? 'utf-16le' : 'utf-16be').decode(buf), utf16);
  if (buf.includes(0)) throw invalid(name, 'binary content (NUL bytes) in a text file', 'binary');
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    text = undefined;
  }
  if (text !== undefined) return checked(name, text, 'utf-8');
  const high = buf.reduce((n, b) => n + (b >= 0x80 ? 1 : 0), 0);
  if (high / buf.byteLength > MAX_LATIN1_HIGH_SHARE) {
    throw invalid(
      name,
      `binary content: not UTF-8 (invalid byte sequences), not UTF-16 (no byte-order mark or NUL pattern), and ${Math.round((100 * high) / buf.byteLength)}% of its bytes are above 0x7F, too many for Latin-1 text`,
      'binary',
    );
  }
  return checked(name, decodeWindows1252(buf), 'latin-1');
}

/**
 * Windows-1252 (the Latin-1 that editors write: curly quotes and dashes in 0x80-0x9F). Decoded
 * here because Node's TextDecoder reads that label as ISO-8859-1; the 5 bytes it leaves
 * undefined stay C1 controls, which {@link checked} counts as undecodable.
 */
function decodeWindows1252(buf: Buffer): string {
  let out = '';
  for (const b of buf) out += b >= 0x80 && b < 0xa0 ? (CP1252_HIGH[b - 0x80] ?? String.fromCharCode(b)) : String.fromCharCode(b);
  return out;
}

// 0x80-0x9F of Windows-1252; where the code page defines nothing, the C1 control itself
const CP1252_HIGH = [...'€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ'];

function bomOf(buf: Buffer): { label: string; encoding: TextEncoding; length: number } | undefined {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) return { label: 'utf-8', encoding: 'utf-8', length: 3 };
  if (buf[0] === 0xff && buf[1] === 0xfe) return { label: 'utf-16le', encoding: 'utf-16le', length: 2 };
  if (buf[0] === 0xfe && buf[1] === 0xff) return { label: 'utf-16be', encoding: 'utf-16be', length: 2 };
  return undefined;
}

/** UTF-16 without a BOM: most ASCII characters put a NUL in the high byte, always on the same side. */
function utf16Guess(buf: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  const n = Math.min(buf.byteLength, 4096) & ~1;
  if (n < 4) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < n; i += 2) {
    if (buf[i] === 0) evenNul++;
    if (buf[i + 1] === 0) oddNul++;
  }
  const pairs = n / 2;
  if (oddNul / pairs > 0.6 && evenNul / pairs < 0.05) return 'utf-16le';
  if (evenNul / pairs > 0.6 && oddNul / pairs < 0.05) return 'utf-16be';
  return undefined;
}

/** Refuses decoded text with NULs, replacement characters or control characters in it. */
function checked(name: string, decoded: string, encoding: TextEncoding): { text: string; encoding: TextEncoding } {
  const text = decoded.replace(/^\uFEFF/, '');
  const sample = text.slice(0, 65_536);
  let bad = 0;
  let length = 0;
  for (const ch of sample) {
    const c = ch.codePointAt(0)!;
    length++;
    if (c === 0) throw invalid(name, `binary content (NUL characters) in a text file read as ${encoding.toUpperCase()}`, 'binary');
    if (c === 0xfffd || (c < 32 && c !== 9 && c !== 10 && c !== 13) || (c >= 0x7f && c < 0xa0)) bad++;
  }
  if (length > 0 && bad / length > MAX_BAD_SHARE) {
    throw invalid(name, `binary content: ${bad} undecodable or control characters in a text file read as ${encoding.toUpperCase()}`, 'binary');
  }
  return { text, encoding };
}
