/**
 * Escapes model text or a reviewer's comment for Markdown so that it renders as the characters
 * written and nothing else: no emphasis, links, images, autolinks, raw HTML, entities, tables,
 * headings, quotes or lists. Line breaks become spaces (one paragraph stays one paragraph);
 * invisible format characters are removed. With `lineStart: false` (a table cell, text after other
 * text on its line) a leading `-`, `=` or `1.` is left alone: only the start of a line opens a block.
 *
 * @example
 * ```ts
 * escapeMarkdown('![x](https://evil.example/?q=1) <b>hi</b>'); // '\\!\\[x\\](https\\://evil.example/?q=1) \\<b\\>hi\\</b\\>'
 * ```
 */
export function escapeMarkdown(text: string, options: { lineStart?: boolean } = {}): string {
  const s = text
    .replace(/[\p{Cf}]/gu, '')
    .replace(/[\r\n\u2028\u2029\u0085\v\f]+/g, ' ')
    .replace(/[\\`*_{}[\]<>#+!|~&$]/g, '\\$&')
    .replace(/:\/\//g, '\\://')
    .replace(/\b(www)\./gi, '$1\\.')
    .replace(/@/g, '\\@');
  if (options.lineStart === false) return s;
  // Only the start of a line can open a block (list, heading, setext rule, ordered list, code).
  return s
    .replace(/^\s+/, '')
    .replace(/^([-=])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2');
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtmlText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
