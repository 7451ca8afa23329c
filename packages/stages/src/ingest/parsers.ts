import { isStageError } from '@baton/core';
import mammoth from 'mammoth';
import { parse as parseHtml, type HTMLElement } from 'node-html-parser';
import { getDocumentProxy } from 'unpdf';
import { htmlDepth } from './html-depth.js';
import { ingestLimits, type IngestLimits } from './limits.js';
import { invalid } from './reject.js';
import { decodeText } from './text.js';
import { checkZip } from './zip.js';

export { invalid } from './reject.js';

/** Formats ingest understands. */
export type SourceFormat = 'txt' | 'md' | 'html' | 'pdf' | 'docx';

/** A parsed document before ids are assigned. */
export interface ParsedDocument {
  title: string | undefined;
  headings: { level: number; text: string }[];
  blocks: { text: string; heading?: string }[];
}

const EXTENSIONS: Record<string, SourceFormat> = {
  txt: 'txt',
  text: 'txt',
  md: 'md',
  markdown: 'md',
  html: 'html',
  htm: 'html',
  pdf: 'pdf',
  docx: 'docx',
};

/** The format for a file name, or an `InvalidInput` naming the file when it is not supported. */
export function formatOf(name: string): SourceFormat {
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  const format = EXTENSIONS[ext];
  if (!format) {
    throw invalid(name, `unsupported type "${ext ? '.' + ext : '(no extension)'}"; supported: .txt .md .html .pdf .docx`, 'unsupported-type');
  }
  return format;
}

/** What {@link parseDocument} may cost, plus the clock its PDF time limit reads (tests pass their own). */
export interface ParseLimits extends IngestLimits {
  now?: () => number;
}

/**
 * Parses raw bytes of a known format within the limits. Throws `InvalidInput` naming the file
 * for unreadable input or input over a limit.
 */
export async function parseDocument(name: string, format: SourceFormat, bytes: Uint8Array, limits: ParseLimits = ingestLimits()): Promise<ParsedDocument> {
  switch (format) {
    case 'txt':
      return parseText(decodeText(name, bytes).text);
    case 'md':
      return parseMarkdown(decodeText(name, bytes).text);
    case 'html':
      return parseHtmlSource(name, decodeText(name, bytes).text, limits);
    case 'pdf':
      return parsePdf(name, bytes, limits);
    case 'docx':
      return parseDocx(name, bytes, limits);
  }
}

function parseText(text: string): ParsedDocument {
  const blocks = splitBlocks(text).map((t) => ({ text: t }));
  const first = blocks[0]?.text;
  return { title: first && first.length <= 120 && !first.includes('\n') ? first : undefined, headings: [], blocks };
}

function parseMarkdown(text: string): ParsedDocument {
  const headings: ParsedDocument['headings'] = [];
  const blocks: ParsedDocument['blocks'] = [];
  let heading: string | undefined;
  let title: string | undefined;
  let buffer: string[] = [];
  const flush = (): void => {
    const t = buffer.join(' ').replace(/\s+/g, ' ').trim();
    if (t) blocks.push(heading ? { text: t, heading } : { text: t });
    buffer = [];
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      flush();
      heading = h[2]!.trim();
      headings.push({ level: h[1]!.length, text: heading });
      if (h[1]!.length === 1 && !title) title = heading;
    } else if (/^\|?\s*:?-{3,}/.test(line)) {
      continue;
    } else if (line.startsWith('|')) {
      flush();
      const cells = line
        .split('|')
        .map((c) => c.trim())
        .filter(Boolean);
      if (cells.length) blocks.push(heading ? { text: cells.join(' | '), heading } : { text: cells.join(' | ') });
    } else if (!line) {
      flush();
    } else if (/^([-*+]|\d+\.)\s+/.test(line)) {
      flush();
      buffer.push(line.replace(/^([-*+]|\d+\.)\s+/, ''));
      flush();
    } else {
      buffer.push(line.replace(/\*\*|__|`/g, ''));
    }
  }
  flush();
  return { title, headings, blocks };
}

/** {@link parseHtmlText} after checking the nesting depth, so deep HTML is a typed refusal naming the file. */
function parseHtmlSource(name: string, html: string, limits: IngestLimits): ParsedDocument {
  const depth = htmlDepth(html, limits.maxHtmlDepth);
  if (depth > limits.maxHtmlDepth) throw invalid(name, `HTML nested more than ${limits.maxHtmlDepth} elements deep`, 'html-depth');
  try {
    return parseHtmlText(html);
  } catch (e) {
    // nesting the tag count above could not see (the parser recurses once per level)
    if (e instanceof RangeError) throw invalid(name, `HTML nested too deep to parse (${e.message})`, 'html-depth');
    throw e;
  }
}

/** Extracts headings and text blocks (paragraphs, list items, table rows) from HTML. */
export function parseHtmlText(html: string): ParsedDocument {
  const root = parseHtml(html);
  const headings: ParsedDocument['headings'] = [];
  const blocks: ParsedDocument['blocks'] = [];
  let heading: string | undefined;
  const title = root.querySelector('title')?.text.trim() || undefined;
  for (const el of root.querySelectorAll('h1,h2,h3,h4,h5,h6,p,li,tr')) {
    const tag = el.tagName.toLowerCase();
    if (tag !== 'tr' && el.closest('td,th')) continue;
    const text = clean(tag === 'tr' ? rowText(el) : el.text);
    if (!text) continue;
    if (/^h[1-6]$/.test(tag)) {
      heading = text;
      headings.push({ level: Number(tag[1]), text });
    } else {
      blocks.push(heading ? { text, heading } : { text });
    }
  }
  return { title: title ?? headings[0]?.text, headings, blocks };
}

async function parsePdf(name: string, bytes: Uint8Array, limits: ParseLimits): Promise<ParsedDocument> {
  if (Buffer.from(bytes.subarray(0, 5)).toString('latin1') !== '%PDF-') throw invalid(name, 'unreadable PDF: no %PDF header', 'unreadable-pdf');
  const now = limits.now ?? Date.now;
  const deadline = now() + limits.maxPdfMs;
  const blocks: ParsedDocument['blocks'] = [];
  try {
    const pdf = await getDocumentProxy(new Uint8Array(bytes));
    if (pdf.numPages > limits.maxPdfPages) throw invalid(name, `PDF has ${pdf.numPages} pages, over the limit of ${limits.maxPdfPages}`, 'pdf-pages');
    for (let n = 1; n <= pdf.numPages; n++) {
      if (now() > deadline) throw invalid(name, `reading the PDF took over ${limits.maxPdfMs} ms (stopped at page ${n} of ${pdf.numPages})`, 'pdf-time');
      const content = await (await pdf.getPage(n)).getTextContent();
      let current: string[] = [];
      let lastY: number | undefined;
      for (const item of content.items) {
        if (!('str' in item)) continue;
        const y = item.transform[5] as number;
        const size = Math.max(item.height, 1);
        // A vertical gap well above the line height starts a new paragraph.
        if (lastY !== undefined && lastY - y > size * 1.8 && current.length) {
          blocks.push({ text: clean(current.join(' ')) });
          current = [];
        }
        if (item.str.trim()) current.push(item.str);
        lastY = y;
      }
      if (current.length) blocks.push({ text: clean(current.join(' ')) });
    }
  } catch (e) {
    if (isStageError(e)) throw e;
    throw invalid(name, `unreadable PDF: ${(e as Error).message}`, 'unreadable-pdf');
  }
  return { title: blocks[0]?.text.slice(0, 120), headings: [], blocks: blocks.filter((b) => b.text) };
}

async function parseDocx(name: string, bytes: Uint8Array, limits: IngestLimits): Promise<ParsedDocument> {
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) throw invalid(name, 'unreadable DOCX: not a zip container', 'unreadable-docx');
  // before mammoth inflates anything: its zip reader trusts the archive
  checkZip(name, bytes, limits);
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) })).value;
  } catch (e) {
    throw invalid(name, `unreadable DOCX: ${(e as Error).message}`, 'unreadable-docx');
  }
  return parseHtmlSource(name, html, limits);
}

function splitBlocks(text: string): string[] {
  return text
    .split(/\r?\n\s*\r?\n/)
    .map(clean)
    .filter((t) => t.length > 0);
}

function rowText(el: HTMLElement): string {
  return el
    .querySelectorAll('td,th')
    .map((c) => clean(c.text))
    .join(' | ');
}

function clean(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
