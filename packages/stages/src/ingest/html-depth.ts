/** Elements that never hold children. */
const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
/**
 * Elements the parser closes when a sibling of the same kind opens (`<p><p>` are two paragraphs,
 * not one inside the other): counting them would call flat HTML with unclosed `<p>` deep.
 */
const SELF_CLOSING_SIBLINGS = new Set(['p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'option', 'optgroup', 'thead', 'tbody', 'tfoot', 'colgroup', 'rb', 'rt', 'rp']);

/**
 * The deepest element nesting of an HTML text, read from its tags alone (no tree is built, so
 * nothing overflows): the check that runs before the parser, which recurses once per level.
 * Stops counting past `stopAt`.
 *
 * @example
 * ```ts
 * htmlDepth('<div><div><p>x</p></div></div>'); // 2
 * ```
 */
export function htmlDepth(html: string, stopAt = Number.POSITIVE_INFINITY): number {
  const tags = /<!--[\s\S]*?-->|<(\/?)([A-Za-z][A-Za-z0-9:-]*)\b[^>]*?(\/?)>/g;
  let depth = 0;
  let max = 0;
  for (let m = tags.exec(html); m; m = tags.exec(html)) {
    const tag = m[2]?.toLowerCase();
    if (!tag || VOID.has(tag) || SELF_CLOSING_SIBLINGS.has(tag) || m[3] === '/') continue;
    if (m[1] === '/') {
      depth = Math.max(0, depth - 1);
    } else {
      depth++;
      if (depth > max) max = depth;
      if (max > stopAt) return max;
    }
  }
  return max;
}
